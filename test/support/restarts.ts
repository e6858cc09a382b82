// The restart test every way in shares: restarts under load with 0 failed requests, enough load
// through to mean something, the new workers' pids behind the answers (for programs that send
// x-pid), and no warning on stderr (drain timeouts, kills, UnsupportedWarning). With `settle`, each old worker must also
// have drained and gone before the next restart: an undrained one would linger until
// terminateTimeout.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { answeredBy, describeErrors, type LoadResult, percentile, startLoad } from './load.js';

/** A running master the test can restart: an app, an example, `overseer run`. */
export interface Restartable {
  port(): Promise<number>;
  /** Resolves once the restart is done; an answer with `ok: false` fails the test. */
  restart(): Promise<unknown>;
  settle(workers: number): Promise<void>;
  readonly stderr: readonly string[];
}

export interface RestartsOptions {
  restarts?: number;
  workers?: number;
  keepAlive?: boolean;
  concurrency?: number;
  tls?: boolean;
  /** Wait for the drained workers to exit after each restart. Default true. */
  settle?: boolean;
  /** More than this many requests must get through. Default 200. */
  minOk?: number;
  /** At least this many worker pids (x-pid) must have answered. */
  minPids?: number;
  /** Print a line with the counts and latencies, under this name. */
  report?: string;
}

export async function restartsUnderLoad(
  target: Restartable,
  opts: RestartsOptions = {},
): Promise<LoadResult> {
  const { restarts = 3, workers = 1, keepAlive = true, concurrency = 8, settle = true, minOk = 200 } = opts;
  const port = await target.port();
  if (settle) await target.settle(workers);
  const load = startLoad({
    port,
    concurrency,
    keepAlive,
    tls: opts.tls ?? false,
    maxMs: 120_000,
    maxRequests: 2_000_000,
  });
  await sleep(300);
  // With minPids, each generation must be seen answering before the next restart (or the end).
  const seen = async (n: number): Promise<void> => {
    if (opts.minPids !== undefined) await answeredBy(load.pids, n);
  };
  await seen(1);
  for (let i = 0; i < restarts; i++) {
    const before = load.pids.size;
    const r = (await target.restart()) as { ok?: unknown } | undefined;
    assert.notEqual(r?.ok, false, `restart ${i + 1} failed: ${JSON.stringify(r)}`);
    if (settle) await target.settle(workers);
    await seen(before + 1);
  }
  const result = await load.stop();
  if (opts.report) {
    console.log(
      `${opts.report}: ${result.ok} ok, ${result.failed} failed (${describeErrors(result)}), ${result.pids.size} worker pids, ` +
        `p50 ${percentile(result.latencies, 50).toFixed(2)} ms, p99 ${percentile(result.latencies, 99).toFixed(2)} ms`,
    );
  }
  assert.equal(result.failed, 0, describeErrors(result));
  assert.ok(result.ok > minOk, `too little load got through (${result.ok})`);
  if (opts.minPids !== undefined) {
    assert.ok(result.pids.size >= opts.minPids, `answers came from ${result.pids.size} worker pid(s)`);
  }
  assert.deepEqual(
    target.stderr.filter((l) => /Warning/.test(l)),
    [],
    'no warnings (drain timeouts, kills, UnsupportedWarning)',
  );
  return result;
}

/**
 * For clients of their own (HTTP/2, say): `one` runs in `loops` loops, one call after another,
 * while `target` restarts `restarts` times, settling to 1 worker after each; resolves once every
 * loop has ended its last call. With `pids` (the workers that answered, which `one` fills), each
 * generation is seen answering before the next restart, and before the end.
 */
export async function loopsThroughRestarts(
  target: Pick<Restartable, 'restart' | 'settle'>,
  one: () => Promise<void>,
  { loops = 8, restarts = 3, pids }: { loops?: number; restarts?: number; pids?: ReadonlySet<string> } = {},
): Promise<void> {
  let stop = false;
  const running = Array.from({ length: loops }, async () => {
    while (!stop) await one();
  });
  await sleep(300);
  try {
    if (pids) await answeredBy(pids, 1);
    for (let i = 0; i < restarts; i++) {
      const before = pids?.size ?? 0;
      await target.restart();
      await target.settle(1);
      if (pids) await answeredBy(pids, before + 1);
    }
  } finally {
    stop = true;
    await Promise.all(running);
  }
}
