// The node:cluster primary of apps/cluster.ts, with one line changed: overseer/cluster, whose
// cluster.reload() replaces the hand-written rolling restart. The worker is the same plain
// app. Restarts come over the control socket at IPC_PATH (as `overseer restart` sends them).

import { fileURLToPath } from 'node:url';
import cluster from 'overseer/cluster';

const count = Number(process.env.WORKERS ?? 2);
cluster.setupPrimary({
  exec: fileURLToPath(new URL('./plain.js', import.meta.url)),
  ipcPath: process.env.IPC_PATH ?? '',
});
for (let i = 0; i < count; i++) cluster.fork();
let listening = 0;
cluster.on('listening', () => {
  if (++listening === count) console.log(JSON.stringify({ event: 'listening' }));
});
// The bench stops it with SIGTERM: the workers go with their primary.
process.on('SIGTERM', () => process.exit(0));
