// HTTPS: the drain works on the TLS sockets. The certificate is the examples' self-signed
// one (examples/tls); use your own.
import fs from 'node:fs';
import https from 'node:https';
import { currentMaster, run } from 'overseer';

const tls = new URL('../../../examples/tls/', import.meta.url); // dist/examples/https → examples/tls

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3443'}`,
  program: async (state) => {
    const server = https.createServer(
      { key: fs.readFileSync(new URL('key.pem', tls)), cert: fs.readFileSync(new URL('cert.pem', tls)) },
      (_req, res) => res.end(`hello over https from worker ${state.workerId} (pid ${process.pid})\n`),
    );
    await state.serve(server);
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
