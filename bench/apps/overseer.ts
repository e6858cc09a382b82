// The hello app under overseer: the master owns the socket, workers serve it with a plain
// state.serve(server) and no drain code of their own. WORKERS and REUSE_PORT pick the
// setup. The master prints its events as JSON lines for the bench (the port among them).
import http from 'node:http';
import { currentMaster, run } from 'overseer';
import { hello } from './hello.js';

const ready = run({
  address: '127.0.0.1:0',
  workers: Number(process.env.WORKERS ?? 1),
  reusePort: process.env.REUSE_PORT === '1',
  ...(process.env.IPC_PATH ? { ipcPath: process.env.IPC_PATH } : {}),
  program: async (state) => {
    await state.serve(http.createServer(hello));
  },
});

const master = currentMaster();
if (master) {
  master.on('listening', ({ addresses }) => console.log(JSON.stringify({ event: 'listening', addresses })));
  master.on('ready', ({ workerId, pid, startupMs }) =>
    console.log(JSON.stringify({ event: 'ready', workerId, pid, startupMs })),
  );
  master.on('exit', ({ workerId, pid }) => console.log(JSON.stringify({ event: 'exit', workerId, pid })));
  master.on('restart', ({ ok, durationMs, error }) =>
    console.log(JSON.stringify({ event: 'restart', ok, durationMs, error: error?.message })),
  );
}
await ready;
