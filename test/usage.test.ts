// Each process's CPU and memory in the status and the metrics: read from the OS only when asked
// and at most once a second per process, CPU % over the time since the last reading (the first:
// since the process started), null where the platform cannot tell; and procfs read as Linux
// writes it. On fakes and this process alone. (The status and metrics made of them: master-core.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MIN_SAMPLE_INTERVAL_MS, UsageSampler } from '../src/master/usage-sampler.js';
import { ownUsage, procfsUsage } from '../src/os/process-usage.js';

test('the sampler reads a process at most once a second, and gives its CPU share since the last reading', () => {
  let now = 10_000;
  const cpu = new Map<number, number>([[7, 1]]);
  const reads: number[] = [];
  const sampler = new UsageSampler(
    (pid) => {
      reads.push(pid);
      const c = cpu.get(pid);
      return c === undefined ? undefined : { cpuSeconds: c, rssBytes: 50 * 2 ** 20 };
    },
    () => now,
  );
  const seven = [{ pid: 7, startedAt: 0 }];
  // The first reading: 1 s of CPU in the 10 s since it started.
  assert.deepEqual(sampler.sample(seven), [{ cpuPercent: 10, cpuSeconds: 1, rssBytes: 50 * 2 ** 20 }]);
  now += MIN_SAMPLE_INTERVAL_MS / 2;
  cpu.set(7, 5);
  assert.deepEqual(sampler.sample(seven)[0]!.cpuSeconds, 1, 'within a second: the last reading');
  assert.deepEqual(reads, [7]);
  now += MIN_SAMPLE_INTERVAL_MS / 2;
  cpu.set(7, 1.5);
  assert.deepEqual(sampler.sample(seven)[0], { cpuPercent: 50, cpuSeconds: 1.5, rssBytes: 50 * 2 ** 20 });
  assert.deepEqual(reads, [7, 7]);
  // Unknown: no pid yet, a process gone, a platform that cannot tell.
  const unknown = { cpuPercent: null, cpuSeconds: null, rssBytes: null };
  assert.deepEqual(
    sampler.sample([
      { pid: undefined, startedAt: 0 },
      { pid: 8, startedAt: 0 },
    ]),
    [unknown, unknown],
  );
  // Pid 7 was not asked for that time: forgotten, so its next reading counts from its start.
  now += MIN_SAMPLE_INTERVAL_MS;
  assert.equal(sampler.sample(seven)[0]!.cpuPercent, Math.round((1.5 / 12) * 1000) / 10);
});

test('procfs as Linux writes it: this process, and nothing for a pid that is not there', {
  skip: process.platform !== 'linux' && 'procfs',
}, () => {
  const busyUntil = Date.now() + 50;
  while (Date.now() < busyUntil) {} // some CPU time of our own to see
  const mine = procfsUsage(process.pid);
  assert.ok(mine, 'this process');
  assert.ok(mine.cpuSeconds > 0, `cpu ${mine.cpuSeconds}`);
  const rss = process.memoryUsage.rss();
  assert.ok(mine.rssBytes > rss / 2 && mine.rssBytes < rss * 2, `rss ${mine.rssBytes} against ${rss}`);
  assert.equal(procfsUsage(2 ** 22 + 1), undefined, 'beyond pid_max');
});

test("elsewhere only the master's own, from Node", () => {
  const own = ownUsage(process.pid);
  assert.ok(own && own.cpuSeconds > 0 && own.rssBytes > 0);
  assert.equal(ownUsage(process.pid + 1), undefined);
});
