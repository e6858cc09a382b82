// A small HTTP server under overseer. `npm start` runs it; then try
//   curl localhost:3000            (answered by a worker)
//   kill -USR2 <master pid>        (a hitless restart: note the new worker pid)
//   Ctrl+C                         (a graceful shutdown)
import http from 'node:http';
import { currentMaster, run } from 'overseer';

const port = process.env.PORT ?? '3000';

const ready = run({
  address: `:${port}`,
  workers: Number(process.env.WORKERS ?? 1),
  program: async (state) => {
    const server = http.createServer((_req, res) => {
      res.end(`hello from worker ${state.workerId} (pid ${process.pid}) on ${state.address}\n`);
    });
    await state.serve(server);
  },
});

const master = currentMaster();
if (master) {
  master.on('listening', ({ addresses }) =>
    console.log(`master ${process.pid} listening on ${addresses.join(', ')}`),
  );
  master.on('ready', (w) => console.log(`worker ${w.workerId} (pid ${w.pid}) ready in ${w.startupMs} ms`));
  master.on('restart', (r) =>
    console.log(`restart ${r.ok ? 'done' : `failed: ${r.error?.message}`} in ${r.durationMs} ms`),
  );
}
await ready;
