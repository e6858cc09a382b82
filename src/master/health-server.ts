// The health endpoint (config.healthAddress): plain HTTP, apart from the program's ports, for
// probes that cannot reach a unix socket (a kubelet's). /livez answers while the master's
// event loop runs; /readyz answers 200 while every worker slot has a ready worker and the
// master is not stopping (from the first moment of drainDelay on, it answers 503).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../address.js';
import { debug } from '../log.js';

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
  const server = http.createServer({ requestTimeout: 5_000, headersTimeout: 5_000 }, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://health').pathname;
    const answer = (status: number, body: object): void => {
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, { ok: false });
    if (path === '/livez') return answer(200, { ok: true });
    if (path === '/readyz') {
      const stopping = source.stopping();
      const ok = !stopping && source.ready();
      return answer(ok ? 200 : 503, { ok, ...(stopping ? { stopping: true } : {}) });
    }
    answer(404, { ok: false });
  });
  // Loopback unless an interface is named: probes from outside need '0.0.0.0:9090' (a pod's IP).
  const host = at.host === '' ? '127.0.0.1' : at.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, host, () => {
      server.off('error', reject);
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
