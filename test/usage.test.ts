// Each process's CPU and memory in the status and the metrics: read from the OS only when asked
// and at most once a second per process, CPU % over the time since the last reading (the first:
// since the process started), null where the platform cannot tell; and procfs read as Linux
// writes it. On fakes and this process alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MasterCore } from '../src/master/core.js';
import { MIN_SAMPLE_INTERVAL_MS, UsageSampler } from '../src/master/usage-sampler.js';
import { ownUsage, type ProcessUsage, procfsUsage } from '../src/os/process-usage.js';
import { fakePlatform } from './support/fake-platform.js';
import { FakeClock, FakeWorker, settle } from './support/fake-workers.js';

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

test("the status and the metrics carry each worker's and the master's CPU and memory, and nothing when unknown", async () => {
  const usage = new Map<number, ProcessUsage>([
    [process.pid, { cpuSeconds: 2, rssBytes: 40 * 2 ** 20 }],
    [10_001, { cpuSeconds: 3, rssBytes: 60 * 2 ** 20 }],
  ]);
  const clock = new FakeClock();
  const core = new MasterCore({
    platform: fakePlatform({ processUsage: (pid) => usage.get(pid) }),
    clock,
    supervisor: {
      workers: 2,
      restartMode: 'overlap',
      terminateTimeout: 5_000,
      noRestart: false,
      forwardSignals: true,
    },
    seams: { spawn: (slot, id) => new FakeWorker(id, slot, clock) },
    app: () => ({ entry: '/srv/shop/server.js', name: 'shop' }),
    ownStatus: () => ({ binHash: 'h', binPath: '/srv/shop/server.js', addresses: [], fetcher: null }),
    api: {
      restart: () => Promise.reject(new Error('unused')),
      triggerUpdate: () => Promise.reject(new Error('unused')),
    },
  });
  core.supervisor.start();
  await settle();
  const s = core.status();
  assert.equal(s.name, 'shop');
  assert.deepEqual([s.cpuSeconds, s.rssBytes], [2, 40 * 2 ** 20]);
  assert.equal(typeof s.cpuPercent, 'number');
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.cpuSeconds, w.rssBytes, w.slotRestarts]),
    [
      [1, 3, 60 * 2 ** 20, 0],
      [2, null, null, 0],
    ],
  );
  const metrics = core.metrics();
  assert.match(metrics, /^overseer_info\{version="[^"]+",bin_hash="h",name="shop"\} 1$/m);
  assert.match(metrics, /^overseer_cpu_seconds_total\{name="shop",process="master"\} 2$/m);
  assert.match(
    metrics,
    /^overseer_cpu_seconds_total\{name="shop",process="worker",worker="1",slot="0"\} 3$/m,
  );
  assert.match(
    metrics,
    /^overseer_resident_memory_bytes\{name="shop",process="worker",worker="1",slot="0"\} 62914560$/m,
  );
  assert.doesNotMatch(metrics, /worker="2"/, 'a worker the OS says nothing of has no sample');
});
