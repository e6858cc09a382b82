// HTTP on loopback for the tests: one GET (a new connection unless an agent is given, bounded
// in time), and a port that was free a moment ago.
import http from 'node:http';
import net from 'node:net';

/** A port on 127.0.0.1, a TCP address with its host, or a unix socket. */
export type HttpTarget = number | { host?: string; port: number } | { socketPath: string };

export interface GetOptions {
  path?: string;
  /** Default 15 s. */
  timeoutMs?: number;
  /** Keep-alive through this agent; by default a new connection that closes after the answer. */
  agent?: http.Agent;
  /** The local address to connect from (127.0.0.x). */
  localAddress?: string;
}

export interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The x-pid header the test programs set: which process answered. */
  pid: string;
}

/** GET `path` (default '/'); resolves with the whole answer, rejects on an error or timeout. */
export function get(target: HttpTarget, options: GetOptions | string = {}): Promise<Reply> {
  const o = typeof options === 'string' ? { path: options } : options;
  const where = typeof target === 'number' ? { host: '127.0.0.1', port: target } : target;
  const timeoutMs = o.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        ...where,
        path: o.path ?? '/',
        agent: o.agent ?? false,
        timeout: timeoutMs,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            headers: res.headers,
            pid: String(res.headers['x-pid']),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${o.path ?? '/'}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A port that was free on 127.0.0.1 a moment ago. */
/**
 * TCP ports on loopback that nothing listens on right now: the kernel's picks, held together
 * until all are known (so they differ), then released.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer().listen(0, '127.0.0.1', () => resolve(s));
          s.on('error', reject);
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** One free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
