// The master's heap compaction after a restart: what drained workers left in old space is
// collected at once instead of growing the heap until V8 gets round to it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage } from '../src/master/heap.js';

test('collectGarbage() frees old-space garbage without --expose-gc, and leaves no gc() behind', async () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'run this test without --expose-gc');
  // 32 MiB of objects that live long enough to reach old space, then die.
  const holder: { held?: object[][] } = {
    held: Array.from({ length: 32 }, () => Array.from({ length: 8192 }, (_, i) => ({ i }))),
  };
  for (let i = 0; i < 20; i++) {
    Array.from({ length: 100_000 }, () => ({})); // scavenges promote what is held
    await sleep(1);
  }
  delete holder.held;
  const before = process.memoryUsage().heapUsed;
  await collectGarbage();
  const deadline = Date.now() + 5_000;
  while (process.memoryUsage().heapUsed > before - 8 * 2 ** 20 && Date.now() < deadline) await sleep(20);
  const freed = (before - process.memoryUsage().heapUsed) / 2 ** 20;
  assert.ok(freed > 8, `freed only ${freed.toFixed(1)} MiB`);
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'gc() leaked into the global scope');
});
