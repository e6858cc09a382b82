// Server-sent events: a response that stays open. On gracefulShutdown the program ends its
// streams; EventSource clients reconnect, to a new worker. Whatever is still open at
// upgradeGrace is ended by the drain, cleanly, never hung until terminateTimeout.
import http from 'node:http';
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    const streams = new Set<http.ServerResponse>();
    const server = http.createServer((req, res) => {
      if (req.url !== '/events') {
        res.end(`hello from worker ${state.workerId}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`retry: 100\ndata: worker ${state.workerId} (pid ${process.pid})\n\n`);
      const tick = setInterval(() => res.write(`data: ${Date.now()}\n\n`), 100);
      streams.add(res);
      res.on('close', () => {
        clearInterval(tick);
        streams.delete(res);
      });
    });
    state.gracefulShutdown.addEventListener('abort', () => {
      for (const res of streams) res.end('event: bye\ndata: restarting\n\n');
    });
    await state.serve(server);
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
