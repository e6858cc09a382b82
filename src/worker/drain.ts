// The request-aware drain behind state.serve(). Measured here: relying on server.close()
// drops one request per keep-alive connection, because Node reaps idle sockets at once
// and resets accepted-but-silent ones. This drain loses none:
//   1. stop accepting (the listener only, without http's reaping of idle sockets);
//   2. answer in-flight and further requests with `Connection: close`, from a request
//      listener registered before the app's, so the header is set before it is sent;
//   3. close a connection only once it is idle, has served a request, and has stayed
//      idle for IDLE_MS (a keep-alive client may have a request on the wire);
//   4. give a connection that has sent nothing SILENT_GRACE_MS to send its request;
//   5. force-close whatever is left at terminateTimeout.
import type { IncomingMessage, ServerResponse } from 'node:http';
import http from 'node:http';
import net from 'node:net';
import type tls from 'node:tls';
import { debug } from '../log.js';

const IDLE_MS = 250;
const SILENT_GRACE_MS = 2_000;
const TICK_MS = 50;

interface Connection {
  acceptedAt: number;
  idleSince: number;
  served: number;
  inflight: Set<ServerResponse>;
}

/** Tracks a server's connections from now on, and drains them when `signal` aborts. */
export function installDrain(
  server: net.Server,
  signal: AbortSignal,
  terminateTimeout: number,
): Promise<void> {
  const isHttp = server instanceof http.Server || typeof (server as http.Server).setTimeout === 'function';
  const conns = new Map<net.Socket, Connection>();
  let draining = false;

  const track = (socket: net.Socket): Connection => {
    let c = conns.get(socket);
    if (!c) {
      const now = Date.now();
      c = { acceptedAt: now, idleSince: now, served: 0, inflight: new Set() };
      conns.set(socket, c);
      socket.once('close', () => conns.delete(socket));
    }
    return c;
  };

  // TLS servers hand requests the TLS socket, not the raw one. (Asked without loading tls,
  // which a plain http worker never needs.)
  const isTls = typeof (server as tls.Server).setSecureContext === 'function';
  server.on(isTls ? 'secureConnection' : 'connection', track);

  if (isHttp) {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      const c = track(req.socket);
      c.inflight.add(res);
      if (draining) res.setHeader('Connection', 'close');
      res.once('close', () => {
        c.inflight.delete(res);
        c.served++;
        c.idleSince = Date.now();
      });
    });
  }

  return new Promise<void>((resolve) => {
    const start = (): void => {
      draining = true;
      debug('drain: %d connections open', conns.size);
      // net's close, not http's: http.Server#close() also closes idle keep-alive sockets.
      net.Server.prototype.close.call(server, () => {
        clearInterval(tick);
        clearTimeout(force);
        resolve();
      });
      for (const c of conns.values()) {
        for (const res of c.inflight) if (!res.headersSent) res.setHeader('Connection', 'close');
      }
      const tick = setInterval(() => {
        const now = Date.now();
        for (const [socket, c] of conns) {
          if (c.inflight.size > 0) continue;
          const idleServed = !isHttp || (c.served > 0 && now - c.idleSince >= IDLE_MS);
          const silentTooLong = c.served === 0 && now - c.acceptedAt >= SILENT_GRACE_MS;
          if (isHttp ? idleServed || silentTooLong : false) socket.destroy();
        }
      }, TICK_MS);
      const force = setTimeout(() => {
        debug('drain: terminateTimeout reached, closing %d connections', conns.size);
        for (const socket of conns.keys()) socket.destroy();
      }, terminateTimeout);
      force.unref();
    };
    if (signal.aborted) start();
    else signal.addEventListener('abort', start, { once: true });
  });
}
