// An app that has never heard of overseer, as the Deployment in this folder runs it: `overseer
// run` is the container's PID 1, serves this app's listen(PORT) from a socket it keeps, and
// drains it on SIGTERM after drainDelay.
const http = require('node:http');

const server = http.createServer((_req, res) => {
  res.setHeader('X-Pid', process.pid);
  res.end(`hello from pid ${process.pid}\n`);
});
server.listen(Number(process.env.PORT ?? 3000), () => {
  console.log(`listening on :${server.address().port}`);
});
