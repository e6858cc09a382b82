// A bounded HTTP load generator for tests: `concurrency` loops on loopback, each stopping
// at `maxRequests` in total or when stopped. It counts every failure: connection errors
// (refused, reset), timeouts and non-2xx answers.
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LoadOptions {
  port?: number;
  socketPath?: string;
  host?: string;
  concurrency: number;
  keepAlive: boolean;
  /** Hard bound on requests, whatever happens. */
  maxRequests?: number;
  /** Hard bound on time, in ms. */
  maxMs?: number;
  /** Per-request timeout, in ms. */
  timeoutMs?: number;
  /** HTTPS, trusting any certificate (the examples' is self-signed). */
  tls?: boolean;
  /** Request path. Default '/'. */
  path?: string;
}

export interface LoadResult {
  ok: number;
  failed: number;
  errors: Map<string, number>;
  pids: Set<string>;
  latencies: number[];
  durationMs: number;
}

export interface LoadRun {
  /** Stops the loops and resolves with what happened. */
  stop(): Promise<LoadResult>;
  /** Successful requests so far. */
  readonly ok: number;
  /** The x-pid of every answer so far. */
  readonly pids: ReadonlySet<string>;
}

/**
 * Waits until `pids` holds at least `n` (answers from that many workers), or `timeoutMs` has
 * passed; the caller's assertion says which. A restart resolves once the new worker is ready,
 * not once it has answered: the clients' last answers from the old one may still be on their
 * way, so stopping the load at once can leave the newest worker unseen on a busy machine.
 */
export async function answeredBy(pids: ReadonlySet<string>, n: number, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (pids.size < n && performance.now() < deadline) await sleep(10);
}

export function startLoad(opts: LoadOptions): LoadRun {
  const agentOptions = { keepAlive: opts.keepAlive, maxSockets: opts.concurrency };
  const agent = opts.tls
    ? new https.Agent({ ...agentOptions, rejectUnauthorized: false })
    : new http.Agent(agentOptions);
  const client = opts.tls ? https : http;
  const result: LoadResult = {
    ok: 0,
    failed: 0,
    errors: new Map(),
    pids: new Set(),
    latencies: [],
    durationMs: 0,
  };
  const maxRequests = opts.maxRequests ?? 1_000_000;
  const t0 = Date.now();
  const deadline = t0 + (opts.maxMs ?? 120_000);
  let sent = 0;
  let stopped = false;
  const fail = (what: string): void => {
    result.failed++;
    result.errors.set(what, (result.errors.get(what) ?? 0) + 1);
  };
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const start = performance.now();
      const req = client.request(
        {
          agent,
          host: opts.host ?? '127.0.0.1',
          port: opts.port,
          socketPath: opts.socketPath,
          path: opts.path ?? '/',
          timeout: opts.timeoutMs ?? 10_000,
        },
        (res) => {
          const pid = res.headers['x-pid'];
          res.resume();
          res.on('end', () => {
            if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
              result.ok++;
              result.latencies.push(performance.now() - start);
              if (typeof pid === 'string') result.pids.add(pid);
            } else fail(`HTTP ${res.statusCode}`);
            resolve();
          });
          res.on('error', (err: NodeJS.ErrnoException) => {
            fail(err.code ?? err.message);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        fail(err.code ?? err.message);
        resolve();
      });
      req.end();
    });
  const loop = async (): Promise<void> => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent++;
      await once();
    }
  };
  const loops = Promise.all(Array.from({ length: opts.concurrency }, loop));
  return {
    get ok() {
      return result.ok;
    },
    get pids() {
      return result.pids;
    },
    async stop() {
      stopped = true;
      await loops;
      agent.destroy();
      result.durationMs = Date.now() - t0;
      return result;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function describeErrors(r: LoadResult): string {
  return [...r.errors].map(([k, v]) => `${k}×${v}`).join(', ') || 'none';
}
