// The hello app with a careful drain, the best an app can do for itself under pm2 or
// node:cluster. On shutdown it stops accepting, answers every further request with
// `Connection: close`, closes a connection only once it has been idle for IDLE_MS (a
// keep-alive client may have a request on the wire), and exits when none is left.
import http from 'node:http';
import net from 'node:net';
import { hello } from './hello.js';

const IDLE_MS = 250;

interface Conn {
  busy: number;
  idleSince: number;
}

const server = http.createServer();
const conns = new Map<net.Socket, Conn>();
let draining = false;

server.on('connection', (socket: net.Socket) => {
  conns.set(socket, { busy: 0, idleSince: Date.now() });
  socket.once('close', () => conns.delete(socket));
});
server.on('request', (req, res) => {
  const c = conns.get(req.socket);
  if (c) {
    c.busy++;
    res.once('close', () => {
      c.busy--;
      c.idleSince = Date.now();
    });
  }
  if (draining) res.setHeader('Connection', 'close');
  hello(req, res);
});
server.listen(Number(process.env.PORT), '127.0.0.1');

const shutdown = (): void => {
  if (draining) return;
  draining = true;
  // net's close, not http's: http.Server#close() also drops idle keep-alive sockets at once,
  // racing requests the client has already sent on them.
  net.Server.prototype.close.call(server);
  const tick = setInterval(() => {
    const now = Date.now();
    for (const [socket, c] of conns) if (c.busy === 0 && now - c.idleSince >= IDLE_MS) socket.destroy();
    if (conns.size === 0) {
      clearInterval(tick);
      process.exit(0);
    }
  }, 25);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
process.on('message', (m) => {
  if (m === 'shutdown') shutdown();
});
