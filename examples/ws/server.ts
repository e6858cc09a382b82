// WebSockets with ws: the upgraded connections are the program's. On gracefulShutdown it
// closes them with 1012 ("service restart"), which clients take as "reconnect now"; the
// drain ends whatever is left at upgradeGrace. HTTP requests on the same server drain as usual.
import http from 'node:http';
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    const { WebSocketServer } = await import('ws');
    const server = http.createServer((_req, res) => res.end(`hello from worker ${state.workerId}\n`));
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket) => {
      socket.send(`welcome from worker ${state.workerId} (pid ${process.pid})`);
      socket.on('message', (data) => socket.send(`echo ${String(data)}`));
    });
    state.gracefulShutdown.addEventListener('abort', () => {
      for (const client of wss.clients) client.close(1012, 'service restart');
    });
    await state.serve(server);
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
