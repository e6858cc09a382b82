// A step of the wall clock (NTP, a resumed VM, `date -s`) moves no deadline and no backoff
// (issue #20, row 12): the crash backoff's reset and a handoff's deadline read the monotonic
// clock. The wall clock is stepped by mocking Date (node:test's mock timers), which is how
// a step looks to the process: Date.now() and new Date() jump, performance.now() does not.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { realClock } from '../src/master/clock.js';
import type { HandoffHost } from '../src/master/handoff/host.js';
import { handOver } from '../src/master/handoff/old-master.js';
import { Supervisor } from '../src/master/supervisor.js';
import type { HandoffConnection, HandoffTransport } from '../src/os/types.js';
import { fakePlatform } from './support/fake-platform.js';
import { FakeWorker, settle } from './support/fake-workers.js';

const HOUR = 3_600_000;

/** The wall clock, frozen now, to be stepped by `step(ms)`; real timers run on. */
function wallClock() {
  const t0 = Date.now();
  mock.timers.enable({ apis: ['Date'], now: t0 });
  let at = t0;
  return {
    step(ms: number) {
      at += ms;
      mock.timers.setTime(at);
    },
    restore: () => mock.timers.reset(),
  };
}

test('the crash backoff: a step of the wall clock neither resets it nor keeps it from resetting', async () => {
  const wall = wallClock();
  try {
    const workers: FakeWorker[] = [];
    const crashes: (number | undefined)[] = [];
    const sup = new Supervisor(
      {
        workers: 1,
        restartMode: 'overlap',
        terminateTimeout: 1_000,
        noRestart: false,
        forwardSignals: false,
        backoff: { initial: 20, factor: 2, max: 10_000, resetAfter: 200 },
      },
      {
        // Its Dates are the wall's, as a real worker's are.
        spawn: (slot, id) => {
          const w = new FakeWorker(id, slot, { now: () => Date.now() });
          workers.push(w);
          return w;
        },
        clock: realClock,
        emit: (name, ...payload) => {
          if (name === 'crash') crashes.push((payload[0] as { restartInMs?: number }).restartInMs);
        },
        warn: () => {},
        reportError: () => {},
      },
    );
    const readyThenCrash = async (healthyMs: number, step: number): Promise<void> => {
      const w = workers.at(-1)!;
      w.becomeReady();
      await settle();
      await sleep(healthyMs);
      wall.step(step);
      w.exit(1);
      await settle();
      await sleep(crashes.at(-1)! + 30); // its replacement starts
    };
    sup.start();
    await readyThenCrash(0, 0);
    // Ready for a moment, while the wall clock jumps an hour ahead: no fresh start.
    await readyThenCrash(0, HOUR);
    // Healthy for longer than resetAfter, while the wall clock jumps an hour back: a fresh start.
    await readyThenCrash(300, -HOUR);
    assert.deepEqual(crashes, [20, 40, 20]);
    void sup.shutdown();
    workers.at(-1)!.exit(0);
    await sup.done;
  } finally {
    wall.restore();
  }
});

test("a handoff's deadline: a step of the wall clock neither ends it early nor makes it wait an hour", async () => {
  for (const step of [HOUR, -HOUR]) {
    const wall = wallClock();
    const asked: number[] = [];
    const conn: HandoffConnection = {
      send: async () => {},
      receive: async (timeoutMs) => {
        asked.push(timeoutMs);
        if (timeoutMs < 100)
          throw Object.assign(new Error('handoff: no answer in time'), { code: 'ETIMEDOUT' });
        await sleep(100);
        return { message: { kind: 'ready', pid: 4242 }, fds: [] };
      },
      peerPid: () => 0,
      close: () => {},
    };
    const transport: HandoffTransport = {
      // The new master connects, and then the wall clock steps.
      listen: async () => ({
        path: '/nonexistent/h.sock',
        accept: async () => {
          wall.step(step);
          return conn;
        },
        close: () => {},
      }),
      connect: () => Promise.reject(new Error('not this side')),
    };
    const host = {
      core: {
        platform: fakePlatform({ handoff: async () => transport }),
        supervisor: { stopping: false, counters: () => ({ restarts: 0, restartFailures: 0, crashes: 0 }) },
        events: new EventEmitter(),
        control: undefined,
      },
      sockets: () => ({ handoff: () => ({ sockets: [] }) }),
      launch: undefined,
      readyTimeout: 5_000,
      badHashes: () => [],
      env: () => ({}),
      health: { serve: async () => {}, close: () => {} },
      drain: () => {},
    } as unknown as HandoffHost;
    // The "new master" is a process that waits; the fake channel answers for it.
    const sleeper = [process.execPath, '-e', 'setTimeout(() => {}, 3000)'];
    try {
      const r = await handOver(host, sleeper, new AbortController().signal);
      assert.equal(r.ok, true, `a ${step > 0 ? 'forward' : 'backward'} step: ${r.error?.message}`);
      assert.ok(asked[0]! > 4_000 && asked[0]! <= 5_000, `the answer was given ${asked[0]} ms`);
      assert.ok(r.durationMs >= 0 && r.durationMs < 5_000, `durationMs ${r.durationMs}`);
    } finally {
      wall.restore();
    }
  }
});
