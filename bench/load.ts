// Keep-alive load with autocannon, made to behave like a well-behaved HTTP/1.1 client and to
// count every request that got no answer. Stock autocannon (8.0) differs in three ways that
// matter when servers restart, so setupClient patches each client:
//   1. It ignores `Connection: close` and writes its next request on the closing socket, which
//      loses it. Here a client opens a new connection after such a response, as undici, curl
//      and node's http.Agent do.
//   2. When the server closes a keep-alive connection (FIN) it silently reconnects, and the
//      request it had in flight is counted nowhere. Here it is counted as `lost`.
//   3. A refused connect is retried in a tight loop that burns the CPU a restarting server
//      needs. Here it is retried after REFUSED_RETRY_MS, still counting each attempt.
import autocannon, { type Client, type Result } from 'autocannon';

const REFUSED_RETRY_MS = 20;

export interface LoadOptions {
  port: number;
  connections: number;
  /** Upper bound; stop() usually ends the load earlier. */
  maxSeconds: number;
  /** Per-request timeout. */
  timeoutSeconds: number;
  /** Count the 2xx answers per slice of this many ms (restart-timeline.ts); off by default. */
  sliceMs?: number;
}

export interface LoadStats {
  ok: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Every failed request: connection errors, timeouts, non-2xx and lost. */
  failed: number;
  /** What they were: error code (ECONNRESET, ECONNREFUSED...), 'timeout', 'non-2xx', 'lost'. */
  kinds: Map<string, number>;
  /** The longest time without a successful response, in ms. */
  maxGapMs: number;
  seconds: number;
  /** Requests autocannon wrote; sent - ok - failed is what was still in flight at stop. */
  sent: number;
  /** With `sliceMs`: the 2xx answers in each slice, the first starting at `startedAt`. */
  slices?: { startedAt: number; sliceMs: number; counts: number[] };
}

export interface Load {
  stop(): Promise<LoadStats>;
}

export function startLoad(opts: LoadOptions): Load {
  const kinds = new Map<string, number>();
  const bump = (kind: string, by = 1): void => {
    if (by) kinds.set(kind, (kinds.get(kind) ?? 0) + by);
  };
  let lost = 0;

  const setupClient = (client: Client): void => {
    let outstanding = false;
    let closeAfter = false;
    let refused = false;
    client.on('request', () => {
      // With one request per connection at a time, a new request while one is outstanding
      // means the outstanding one got neither an answer nor an error.
      if (outstanding) lost++;
      outstanding = true;
    });
    client.on('response', () => {
      outstanding = false;
    });
    client.on('connError', (err: NodeJS.ErrnoException) => {
      outstanding = false;
      refused = err.code === 'ECONNREFUSED';
      bump(err.code ?? err.message);
    });
    // autocannon reconnects (and sends a request) before it emits 'timeout': undo the 'lost'.
    client.on('timeout', () => {
      lost--;
      bump('timeout');
    });
    client.on('headers', (info: { shouldKeepAlive?: boolean }) => {
      if (info.shouldKeepAlive === false) closeAfter = true;
    });

    const connect = client._connect;
    client._connect = function (this: Client) {
      // Drop the old connection entirely, so that nothing from it reaches the parser again.
      const old = this.conn;
      if (old) {
        for (const e of ['error', 'end', 'data']) old.removeAllListeners(e);
        old.on('error', () => {});
        old.destroy();
      }
      this.pipelinedRequests.clear();
      this.parser.initialize(this.parser.type);
      if (refused) {
        refused = false;
        setTimeout(() => {
          if (!this.destroyed) connect.call(this);
        }, REFUSED_RETRY_MS);
        return;
      }
      connect.call(this);
    };
    const doRequest = client._doRequest;
    client._doRequest = function (this: Client) {
      if (closeAfter) {
        closeAfter = false;
        this._connect(); // its first request goes on the new connection
        return;
      }
      doRequest.call(this);
    };
  };

  // autocannon's own histogram keeps whole milliseconds; these are exact (2xx only).
  const latencies: number[] = [];
  let last = 0;
  let maxGapMs = 0;
  const t0 = performance.now();
  const slices: number[] = [];
  const sliceMs = opts.sliceMs;
  let instance: ReturnType<typeof autocannon> | undefined;
  const done = new Promise<Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: `http://127.0.0.1:${opts.port}/`,
        connections: opts.connections,
        duration: opts.maxSeconds,
        timeout: opts.timeoutSeconds,
        setupClient,
      },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
    instance.on('response', (_client: Client, status: number, _bytes: number, ms: number) => {
      if (status < 200 || status >= 300) return;
      latencies.push(ms);
      const now = performance.now();
      if (sliceMs !== undefined) {
        const i = Math.floor((now - t0) / sliceMs);
        while (slices.length <= i) slices.push(0);
        slices[i]!++;
      }
      if (last) maxGapMs = Math.max(maxGapMs, now - last);
      last = now;
    });
  });

  return {
    async stop() {
      instance?.stop();
      const r = await done;
      const seconds = (performance.now() - t0) / 1000;
      bump('non-2xx', r.non2xx);
      bump('reset', r.resets);
      bump('lost', lost);
      return {
        ok: r['2xx'],
        reqPerSec: r['2xx'] / seconds,
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        // r.errors already includes the timeouts.
        failed: r.errors + r.non2xx + r.resets + lost,
        kinds,
        maxGapMs,
        seconds,
        sent: r.requests.sent,
        ...(sliceMs === undefined ? {} : { slices: { startedAt: t0, sliceMs, counts: slices } }),
      };
    },
  };
}

export function describeKinds(kinds: Map<string, number>): string {
  return [...kinds].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
