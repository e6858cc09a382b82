// The health endpoint (config.healthAddress): plain HTTP, apart from the program's ports, for
// probes that cannot reach a unix socket (a kubelet's). /livez answers while the master's
// event loop runs; /readyz answers 200 while every worker slot has a ready worker and the
// master is not stopping (from the first moment of drainDelay on, it answers 503).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ListenAddress } from '../address.js';
import { errorBody } from '../control/event-stream.js';
import { codedError, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { noteFdExhaustion } from './fd-exhaustion.js';

/**
 * A probe is one short request: connections beyond these bounds are closed, so that clients
 * of the endpoint (which may be any interface's) cannot take the master's fds. Past
 * maxConnections the oldest idle connection makes room for the new one, so that idle ones
 * cannot shut a kubelet's probe out. Node checks the request timeouts every
 * connectionsCheckingInterval (30 s by default), and not at all for a connection that never
 * sends a byte: idleTimeout closes that one.
 */
export const HEALTH_LIMITS = {
  maxConnections: 32,
  idleTimeout: 2_000,
  headersTimeout: 2_000,
  requestTimeout: 2_000,
  keepAliveTimeout: 1_000,
  connectionsCheckingInterval: 1_000,
} as const;

export interface HealthSource {
  /** Every slot has a ready worker. */
  ready(): boolean;
  /** The master is stopping (or about to: drainDelay). */
  stopping(): boolean;
}

export interface HealthServer {
  /** Where it listens ('127.0.0.1:9090'). */
  readonly address: string;
  close(): void;
}

export async function serveHealth(
  at: ListenAddress & { kind: 'tcp' },
  source: HealthSource,
): Promise<HealthServer> {
  const { maxConnections, idleTimeout, ...timeouts } = HEALTH_LIMITS;
  const server = http.createServer(timeouts, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://health').pathname;
    const answer = (status: number, body: object): void => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    // Coded, as the control socket's answers are.
    const refuse = (status: number, err: Error): void => answer(status, { ok: false, ...errorBody(err) });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return refuse(405, codedError(Error, 'ERR_OVERSEER_METHOD', `${req.method} is not allowed on ${path}`));
    }
    if (path === '/livez') return answer(200, { ok: true });
    if (path === '/readyz') {
      const stopping = source.stopping();
      const ok = !stopping && source.ready();
      return answer(ok ? 200 : 503, { ok, ...(stopping ? { stopping: true } : {}) });
    }
    refuse(404, codedError(Error, 'ERR_OVERSEER_NOT_FOUND', `no route ${path}`));
  });
  server.timeout = idleTimeout;
  makeRoom(server, maxConnections);
  // Loopback unless an interface is named: probes from outside need '0.0.0.0:9090' (a pod's IP).
  const host = at.host === '' ? '127.0.0.1' : at.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, host, () => {
      server.off('error', reject);
      // A failed accept (out of fds) must not end the master: the probe's client retries.
      server.on('error', (err) => {
        if (!noteFdExhaustion(err, 'a health connection could not be accepted')) {
          debug('health endpoint: %s', errorMessage(err));
        }
      });
      resolve();
    });
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  debug('health endpoint on %s', address);
  return {
    address,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}

/** Past `max` connections, closes the oldest with no request in flight (else the newest). */
function makeRoom(server: http.Server, max: number): void {
  const open = new Set<Socket>(); // oldest first
  const busy = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      busy.delete(socket);
    });
    if (open.size <= max) return;
    let idle: Socket | undefined;
    for (const s of open) {
      if (!busy.has(s)) {
        idle = s;
        break;
      }
    }
    debug('health endpoint: %d connections; closing the oldest idle one', open.size);
    (idle ?? socket).destroy();
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    busy.add(req.socket);
    res.once('finish', () => busy.delete(req.socket));
  });
}
