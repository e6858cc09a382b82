// A node:cluster program, changed in one line: require('overseer/cluster') instead of
// require('node:cluster'). Its workers listen as they always did; `kill -USR2 <primary>`
// or `overseer restart` reloads them all without dropping a request.
const cluster = require('overseer/cluster');
const http = require('node:http');
const os = require('node:os');

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? os.availableParallelism());
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('listening', (worker, address) => {
    console.log(`worker ${worker.id} listening on port ${address.port}`);
  });
  cluster.on('exit', (worker, code, signal) => {
    // A worker retired by a reload, or told to go, has exitedAfterDisconnect set.
    if (worker.exitedAfterDisconnect) return;
    console.log(`worker ${worker.id} died (${signal ?? code}); forking another`);
    cluster.fork();
  });
} else {
  http
    .createServer((_req, res) => {
      res.setHeader('x-pid', String(process.pid));
      res.end(`hello from worker ${cluster.worker.id}\n`);
    })
    .listen(Number(process.env.PORT ?? 8000));
}
