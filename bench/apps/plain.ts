// The hello app as most apps are written: listen on PORT, and on SIGINT (pm2's kill signal),
// SIGTERM or a 'shutdown' message do server.close(() => process.exit(0)). Run alone it is the
// bare-node peer; pm2 and the node:cluster primary run it as their workers.
import http from 'node:http';
import { hello } from './hello.js';

const server = http.createServer(hello);
server.listen(Number(process.env.PORT), '127.0.0.1');

const shutdown = (): void => {
  server.close(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.on('message', (m) => {
  if (m === 'shutdown') shutdown();
});
