// The product's promise: restarts under real load drop nothing.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AppProcess } from './support/app.js';
import { describeErrors, percentile, startLoad } from './support/load.js';
import { stopAll } from './support/process.js';
import { type RestartsOptions, restartsUnderLoad } from './support/restarts.js';

after(stopAll);

/** Restarts back to back (no waiting for the drained workers) under 16 loops of load, then a clean stop. */
async function hitless(
  name: string,
  app: ConstructorParameters<typeof AppProcess>[0],
  opts: RestartsOptions & { restarts: number; keepAlive: boolean },
): Promise<void> {
  const a = new AppProcess({ overseer: { address: '127.0.0.1:0' }, ...app });
  await a.nth('ready', opts.workers ?? 1);
  await restartsUnderLoad(a, {
    concurrency: 16,
    settle: false,
    minOk: 1000,
    minPids: 2,
    report: name,
    ...opts,
  });
  const { code } = await a.stop();
  assert.equal(code, 0);
}

test('20 restarts under keep-alive load: zero failed requests', async () => {
  await hitless('keep-alive', {}, { keepAlive: true, restarts: 20 });
});

test('20 restarts under load without keep-alive: zero failed requests', async () => {
  await hitless('no keep-alive', {}, { keepAlive: false, restarts: 20 });
});

test('a program that takes 300 ms to become ready restarts without failures', async () => {
  await hitless('300 ms startup', { readyDelayMs: 300 }, { keepAlive: true, restarts: 8 });
});

test('two workers with reusePort restart one slot at a time without failures', async () => {
  await hitless(
    'reusePort ×2',
    { overseer: { address: '127.0.0.1:0', workers: 2, reusePort: true } },
    { keepAlive: false, restarts: 6, workers: 2 },
  );
});

test("restartMode 'sequential' keeps Go's order and still serves", async () => {
  const a = new AppProcess({ overseer: { address: '127.0.0.1:0', restartMode: 'sequential' } });
  await a.port();
  await a.nth('ready', 1);
  const r = await a.restart();
  assert.equal(r.ok, true);
  // In sequential mode the old worker has exited before the new one was forked.
  const exitIdx = a.events.findIndex((e) => e.event === 'exit' && e.workerId === 1);
  const forkIdx = a.events.findIndex((e) => e.event === 'fork' && e.workerId === 2);
  assert.ok(exitIdx >= 0 && exitIdx < forkIdx, 'worker 1 exited before worker 2 was forked');
  await a.stop();
});

test('p99 latency while restarting stays near the steady state', async () => {
  const a = new AppProcess({ overseer: { address: '127.0.0.1:0' }, readyDelayMs: 300 });
  const port = await a.port();
  await a.nth('ready', 1);
  const steady = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 3_000 });
  await new Promise((r) => setTimeout(r, 2_000));
  const s = await steady.stop();
  const during = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000 });
  for (let i = 0; i < 5; i++) assert.equal((await a.restart()).ok, true);
  const d = await during.stop();
  const p99s = percentile(s.latencies, 99);
  const p99d = percentile(d.latencies, 99);
  console.log(
    `latency: steady p50 ${percentile(s.latencies, 50).toFixed(2)} / p99 ${p99s.toFixed(2)} ms; ` +
      `restarting p50 ${percentile(d.latencies, 50).toFixed(2)} / p99 ${p99d.toFixed(2)} ms (max ${Math.max(...d.latencies).toFixed(1)} ms)`,
  );
  assert.equal(d.failed, 0, describeErrors(d));
  assert.ok(
    d.ok > 100 && s.ok > 100,
    `too few answers to take a p99 of (${s.ok} steady, ${d.ok} restarting)`,
  );
  // Go's accept gap stalls every connection for the new worker's start-up (300 ms here).
  assert.ok(
    p99d < 250,
    `p99 during restarts ${p99d.toFixed(1)} ms is near the 300 ms start-up: an accept gap`,
  );
  await a.stop();
});
