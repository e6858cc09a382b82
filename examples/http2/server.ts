// HTTP/2 over TLS (with HTTP/1.1 for clients that do not speak it). On drain each session gets
// a GOAWAY: the streams in flight finish and the client opens its next session elsewhere,
// on the new worker. No Connection header (HTTP/2 has none), no warning. (Over TLS the GOAWAY
// comes alone, and a stream that crosses it is refused, safe to retry; served without TLS, with
// http2.createServer(), a session gets RFC 9113's two-step GOAWAY and none is refused: see the
// README's drain section.)
import fs from 'node:fs';
import http2 from 'node:http2';
import { currentMaster, run } from 'overseer';

const tls = new URL('../../../examples/tls/', import.meta.url); // dist/examples/http2 → examples/tls

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3443'}`,
  program: async (state) => {
    const server = http2.createSecureServer(
      {
        key: fs.readFileSync(new URL('key.pem', tls)),
        cert: fs.readFileSync(new URL('cert.pem', tls)),
        allowHTTP1: true,
      },
      (req, res) => {
        res.setHeader('x-pid', String(process.pid));
        res.end(`hello over HTTP/${req.httpVersion} from worker ${state.workerId}\n`);
      },
    );
    await state.serve(server);
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
