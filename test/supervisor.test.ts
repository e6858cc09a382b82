// The supervisor as a state machine, without processes: fake workers driven by hand and a
// fake clock. Every order of ready / failed / exit, crashes during restarts, shutdown during
// a restart, a burst of restart requests, and a replacement timer racing a restart.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MasterEvents, RestartResult } from '../src/master/events.js';
import { GIVE_UP_AFTER, Supervisor, type SupervisorOptions } from '../src/master/supervisor.js';
import { FakeClock, FakeWorker, settle } from './support/fake-workers.js';

interface Harness {
  sup: Supervisor;
  clock: FakeClock;
  workers: FakeWorker[];
  events: { name: keyof MasterEvents; payload: Record<string, unknown> }[];
  warnings: string[];
  hooks: string[];
  /** Every worker of a slot, oldest first. */
  of(slot: number): FakeWorker[];
  /** The newest worker. */
  last(): FakeWorker;
  count(name: keyof MasterEvents): number;
  /** How many of the next spawns throw, as child_process.spawn() does for ENOMEM. */
  spawnsThatThrow: number;
}

/** `spawnMs`: how long each spawn takes on the clock (a fork of a large process is not free). */
function harness(opts: Partial<SupervisorOptions> = {}, spawnMs = 0): Harness {
  const clock = new FakeClock();
  const workers: FakeWorker[] = [];
  const events: Harness['events'] = [];
  const warnings: string[] = [];
  const hooks: string[] = [];
  const h = { spawnsThatThrow: 0 };
  const sup = new Supervisor(
    {
      workers: 1,
      restartMode: 'overlap',
      terminateTimeout: 5_000,
      noRestart: false,
      forwardSignals: true,
      ...opts,
    },
    {
      spawn: (slot, id) => {
        clock.advance(spawnMs);
        if (h.spawnsThatThrow > 0) {
          h.spawnsThatThrow--;
          throw Object.assign(new Error('spawn ENOMEM'), { code: 'ENOMEM', errno: -12, syscall: 'spawn' });
        }
        const w = new FakeWorker(id, slot, clock);
        workers.push(w);
        return w;
      },
      clock,
      emit: (name, ...payload) =>
        events.push({ name, payload: payload[0] as unknown as Record<string, unknown> }),
      warn: (message, code) => warnings.push(`${code}: ${message}`),
      reportError: () => {},
      allReady: () => hooks.push('allReady'),
      restarting: () => hooks.push('restarting'),
      restarted: (r) => hooks.push(`restarted ${r.ok}`),
      settled: () => hooks.push('settled'),
      slotGone: (slot) => hooks.push(`slotGone ${slot}`),
    },
  );
  return Object.assign(h, {
    sup,
    clock,
    workers,
    events,
    warnings,
    hooks,
    of: (slot: number) => workers.filter((w) => w.slot === slot),
    last: () => workers.at(-1)!,
    count: (name: keyof MasterEvents) => events.filter((e) => e.name === name).length,
  });
}

/** Starts every slot and makes its first workers ready. */
async function started(opts: Partial<SupervisorOptions> = {}): Promise<Harness> {
  const h = harness(opts);
  h.sup.start();
  for (const w of h.workers) w.becomeReady();
  await settle();
  return h;
}

test("a ready worker's startupMs counts from before its spawn, as node:cluster's fork → 'listening' does", async () => {
  const h = harness({}, 7);
  h.sup.start();
  h.clock.advance(50);
  h.last().becomeReady();
  await settle();
  const ready = h.events.find((e) => e.name === 'ready');
  assert.equal(ready?.payload.startupMs, 57);
});

test('start fills every slot; systemd hears "all ready" once, when the last slot is ready', async () => {
  const h = harness({ workers: 3 });
  h.sup.start();
  assert.deepEqual(
    h.workers.map((w) => [w.id, w.slot]),
    [
      [1, 0],
      [2, 1],
      [3, 2],
    ],
  );
  assert.deepEqual(
    h.sup.slots.map((s) => s.state),
    ['starting', 'starting', 'starting'],
  );
  h.workers[0]!.becomeReady();
  h.workers[2]!.becomeReady();
  await settle();
  assert.deepEqual(h.hooks, []);
  h.workers[1]!.becomeReady();
  await settle();
  assert.deepEqual(h.hooks, ['allReady']);
  assert.equal(h.sup.newestReady, 3);
  assert.equal(h.count('ready'), 3);
});

test('an overlapping restart drains each old worker only after its successor is ready, one slot at a time', async () => {
  const h = await started({ workers: 2 });
  const [a, b] = h.workers;
  const restart = h.sup.restart('test');
  await settle();
  assert.equal(h.workers.length, 3, 'slot 0 first: one new worker');
  const a2 = h.last();
  assert.equal(a2.slot, 0);
  assert.equal(h.sup.slots[0]!.state, 'replacing');
  assert.equal(a!.drainRequested, false, 'the old worker serves until the new one is ready');
  a2.becomeReady();
  await settle();
  assert.equal(a!.drains.length, 1);
  assert.equal(a!.drains[0]!.signal, undefined, 'a restart drains by message only');
  assert.equal(h.workers.length, 4, 'then slot 1');
  h.last().becomeReady();
  const r = await restart;
  assert.equal(r.ok, true);
  assert.equal(r.replaced, 2);
  assert.equal(b!.drainRequested, true);
  assert.equal(h.sup.restarts, 1);
  assert.deepEqual(h.hooks.slice(1), ['restarting', 'restarted true', 'settled']);
  assert.equal(h.count('crash'), 0);
});

test("restartMode 'sequential': the old worker has exited before the new one is forked", async () => {
  const h = await started({ restartMode: 'sequential' });
  const old = h.workers[0]!;
  old.exitOnDrain = false;
  const restart = h.sup.restart();
  await settle();
  assert.equal(old.drainRequested, true);
  assert.equal(h.workers.length, 1, 'nothing forked while the old one drains');
  assert.equal(h.sup.slots[0]!.state, 'empty');
  old.exit(0);
  await settle();
  assert.equal(h.workers.length, 2);
  h.last().becomeReady();
  assert.equal((await restart).ok, true);
  assert.equal(h.sup.slots[0]!.state, 'serving');
});

for (const [how, act] of [
  ['throws', (w: FakeWorker) => w.fail()],
  ['exits', (w: FakeWorker) => w.exit(3)],
  ['is killed at readyTimeout', (w: FakeWorker) => w.exit(null, 'SIGKILL')],
] as const) {
  test(`a new worker that ${how} during a restart: the old one keeps serving; a failed restart, not a crash`, async () => {
    const h = await started({ workers: 2 });
    const [a, b] = h.workers;
    const restart = h.sup.restart();
    await settle();
    act(h.last());
    const r = await restart;
    await settle();
    assert.equal(r.ok, false);
    assert.equal(r.replaced, 0);
    assert.equal(a!.drainRequested, false);
    assert.equal(b!.drainRequested, false, 'the slots after the failing one are untouched');
    assert.equal(h.sup.slots[0]!.current, a);
    assert.equal(h.sup.slots[0]!.state, 'serving');
    assert.equal(h.workers.length, 3, 'slot 1 was not restarted');
    assert.equal(h.count('crash'), 0);
    assert.equal(h.sup.restartFailures, 1);
    assert.deepEqual(h.clock.pending(), [], 'no replacement: the old worker still serves');
    // A stale readiness from the failed worker moves nothing.
    h.workers[2]!.becomeReady();
    await settle();
    assert.equal(h.sup.slots[0]!.current, a);
  });
}

/** Slot 0 serves at last, and systemd heard "all ready" once: the failures before it were retried. */
function servesAfterRetries(h: Harness): void {
  assert.equal(h.sup.slots[0]!.state, 'serving');
  assert.deepEqual(
    h.hooks.filter((x) => x !== 'settled'),
    ['allReady'],
  );
}

test('outside a restart: a failed first start is a crash, retried with growing backoff', async () => {
  const h = harness();
  h.sup.start();
  h.workers[0]!.fail();
  await settle();
  assert.equal(h.count('crash'), 1);
  // What failed, said once (the error names the worker and says it failed to start).
  assert.match(h.warnings[0]!, /^OVERSEER_WORKER_FAILED: worker 1 failed to start: failing on purpose$/);
  assert.deepEqual(h.clock.pending(), [500]);
  assert.equal(h.sup.slots[0]!.state, 'waiting');
  h.clock.advance(500);
  assert.equal(h.workers.length, 2);
  h.workers[1]!.exit(1);
  await settle();
  assert.deepEqual(h.clock.pending(), [750], '×1.5 per failure in a row');
  h.clock.advance(750);
  h.workers[2]!.becomeReady();
  await settle();
  servesAfterRetries(h);
});

test('a spawn that throws (ENOMEM from the fork) is a worker that could not start: retried after the backoff, from a timer too', async () => {
  const h = harness();
  h.spawnsThatThrow = 2;
  h.sup.start();
  assert.equal(h.workers.length, 0);
  assert.match(
    h.warnings[0]!,
    /^OVERSEER_WORKER_FAILED: .*could not be started: spawn ENOMEM; trying again in 500 ms$/,
  );
  assert.deepEqual(h.clock.pending(), [500]);
  assert.equal(h.sup.slots[0]!.state, 'waiting');
  h.clock.advance(500); // the replacement's spawn throws as well, in the timer
  assert.deepEqual(h.clock.pending(), [750], '×1.5 per failure in a row');
  h.clock.advance(750);
  h.workers[0]!.becomeReady();
  await settle();
  servesAfterRetries(h);
  // In a restart the throw is the restart's: it fails, and the serving worker stays.
  h.spawnsThatThrow = 1;
  const r = await h.sup.restart();
  assert.equal(r.ok, false);
  assert.match(String(r.error?.message), /spawn ENOMEM/);
  assert.equal(h.sup.slots[0]!.current, h.workers[0]);
  assert.deepEqual(h.clock.pending(), []);
});

test('a serving worker that dies is replaced after its backoff; health resets the backoff', async () => {
  const h = await started();
  h.workers[0]!.exit(9);
  await settle();
  const crash = h.events.find((e) => e.name === 'crash')!.payload;
  assert.equal(crash.code, 9);
  assert.equal(crash.restartInMs, 500);
  assert.equal(h.sup.crashes, 1);
  h.clock.advance(500);
  h.workers[1]!.becomeReady();
  await settle();
  h.clock.advance(31_000); // healthy for longer than resetAfter
  h.workers[1]!.exit(1);
  await settle();
  assert.deepEqual(h.clock.pending(), [500], 'a fresh start after 30 s of health');
});

test('a replacement timer racing a restart: the restart takes the slot and the timer never forks', async () => {
  const h = await started({ workers: 2 });
  h.workers[1]!.exit(1); // slot 1 waits out its backoff
  await settle();
  assert.equal(h.sup.slots[1]!.state, 'waiting');
  const restart = h.sup.restart();
  await settle();
  h.last().becomeReady(); // slot 0's new worker
  await settle();
  // The restart reached slot 1 before the timer did: it cancelled it and forks at once.
  assert.equal(h.sup.slots[1]!.state, 'starting');
  assert.deepEqual(h.clock.pending(), []);
  h.clock.advance(10_000);
  assert.equal(h.workers.length, 4, 'the cancelled timer forked nothing');
  h.last().becomeReady();
  assert.equal((await restart).ok, true);
});

test('a crash in a slot the restart has already passed is still replaced (with backoff)', async () => {
  const h = await started({ workers: 2 });
  const restart = h.sup.restart();
  await settle();
  const a2 = h.last();
  a2.becomeReady();
  await settle();
  a2.exit(7); // slot 0's new worker dies while the restart works on slot 1
  await settle();
  assert.equal(h.sup.slots[0]!.state, 'waiting');
  h.last().becomeReady();
  assert.equal((await restart).ok, true);
  h.clock.advance(500);
  assert.equal(h.sup.slots[0]!.state, 'starting', 'slot 0 is not left empty');
});

test('the serving worker dies while its replacement starts: no second replacement, the restart goes on', async () => {
  const h = await started();
  const restart = h.sup.restart();
  await settle();
  h.workers[0]!.exit(1);
  await settle();
  assert.equal(h.sup.slots[0]!.state, 'starting');
  assert.equal(h.count('crash'), 1);
  assert.equal(h.events.find((e) => e.name === 'crash')!.payload.restartInMs, undefined);
  assert.deepEqual(h.clock.pending(), []);
  h.last().becomeReady();
  assert.equal((await restart).ok, true);
  assert.equal(h.workers.length, 2);
});

test('a restart waits for a worker that is already starting in the slot', async () => {
  const h = harness();
  h.sup.start();
  const restart = h.sup.restart();
  await settle();
  assert.equal(h.workers.length, 1, 'no second worker starts beside the first');
  h.workers[0]!.becomeReady();
  await settle();
  assert.equal(h.workers.length, 2);
  h.last().becomeReady();
  assert.equal((await restart).ok, true);
  assert.equal(h.workers[0]!.drainRequested, true);
});

test('a burst of 100 restart requests during a restart runs one follow-up, shared by all', async () => {
  const h = await started();
  const first = h.sup.restart('first');
  const burst = Array.from({ length: 100 }, () => h.sup.restart('burst'));
  for (let i = 0; i < 3; i++) {
    await settle();
    h.last().becomeReady();
  }
  const results = await Promise.all([first, ...burst]);
  assert.ok(results.every((r) => r.ok));
  assert.equal(h.sup.restarts, 2);
  assert.equal(h.workers.length, 3);
  assert.equal(new Set(burst).size, 1, 'one shared promise');
});

test('shutdown during a restart: the restart fails, every worker drains with the signal, the code is 0', async () => {
  const h = await started({ workers: 2 });
  const restart = h.sup.restart();
  await settle();
  const starting = h.last();
  const done = h.sup.shutdown('SIGTERM');
  const r: RestartResult = await restart;
  assert.equal(r.ok, false);
  assert.match(String(r.error?.message), /stopped|shutdown/);
  assert.deepEqual(
    h.workers.map((w) => w.drains.map((d) => d.signal)),
    [['SIGTERM'], ['SIGTERM'], ['SIGTERM']],
  );
  assert.equal(starting.phase, 'exited');
  assert.equal(await done, 0);
  assert.equal((await h.sup.restart()).error?.message, 'overseer: the master is shutting down');
  assert.equal(h.workers.length, 3, 'nothing forked after shutdown');
});

test('a stop on its way (drainDelay): a restart under way ends before its next slot, a new one is refused, the workers serve on', async () => {
  const h = await started({ workers: 2 });
  const restart = h.sup.restart();
  await settle();
  h.sup.stopComing();
  assert.equal(h.sup.stopping, false);
  assert.equal(h.sup.stopRequested, true);
  h.last().becomeReady(); // slot 0's new worker was starting already: it takes the slot
  const r = await restart;
  assert.deepEqual(
    [r.ok, r.replaced, (r.error as { code?: string })?.code],
    [false, 1, 'ERR_OVERSEER_SHUTTING_DOWN'],
  );
  assert.equal(h.workers.length, 3, 'slot 1 got no new worker');
  const refused = await h.sup.restart('signal');
  assert.deepEqual(
    [refused.ok, (refused.error as { code?: string })?.code],
    [false, 'ERR_OVERSEER_SHUTTING_DOWN'],
  );
  assert.equal(h.workers.length, 3, 'nothing forked');
  assert.deepEqual(
    h.sup.slots.map((s) => s.current?.phase),
    ['ready', 'ready'],
    'both slots still serve',
  );
  assert.equal(await h.sup.shutdown('SIGTERM'), 0);
});

test('shutdown: a pending replacement is cancelled; a second SIGTERM kills, a second SIGHUP does not', async () => {
  const h = await started({ workers: 2 });
  h.workers[0]!.exit(1);
  await settle();
  for (const w of h.workers) w.exitOnDrain = false;
  const done = h.sup.shutdown('SIGHUP');
  assert.deepEqual(h.clock.pending(), []);
  void h.sup.shutdown('SIGHUP');
  assert.deepEqual(h.workers[1]!.kills, []);
  void h.sup.shutdown('SIGINT');
  assert.deepEqual(h.workers[1]!.kills, ['SIGKILL']);
  // Stopped while slot 0 had no worker serving (a crash, its replacement pending): a failure.
  assert.equal(await done, 1);
  assert.equal(
    h.sup.failure,
    'it was stopped while worker slot 0 had no worker serving: its last one, 1, died (code 1)',
  );
  h.clock.advance(60_000);
  assert.equal(h.workers.length, 2);
});

describe('the exit code of a stop', () => {
  test('0 whatever status the drained workers end with: they were told to go', async () => {
    const h = await started({ workers: 3 });
    for (const w of h.workers) w.exitOnDrain = false;
    const done = h.sup.shutdown('SIGTERM');
    h.workers[0]!.exit(0);
    h.workers[1]!.exit(1); // its own SIGTERM handler failed to close something
    h.workers[2]!.exit(null, 'SIGTERM'); // an app with no handler: 143 by its shell's reckoning
    assert.equal(await done, 0);
    assert.equal(h.sup.failure, undefined);
  });

  test('1 when a serving worker had to be SIGKILLed (terminateTimeout, a second signal), saying which', async () => {
    const h = await started({ workers: 2 });
    for (const w of h.workers) w.exitOnDrain = false;
    const done = h.sup.shutdown('SIGTERM');
    h.workers[0]!.exit(0);
    h.workers[1]!.exit(null, 'SIGKILL'); // as WorkerProcess does at terminateTimeout
    assert.equal(await done, 1);
    assert.equal(h.sup.failure, 'worker 2 (pid 10002) was SIGKILLed before it had drained');
  });

  test("0 when the worker SIGKILLed is a restart's old one, retired before the stop: it was not serving", async () => {
    const h = await started({ workers: 1 });
    const old = h.workers[0]!;
    old.exitOnDrain = false; // a program whose timer outlives its drain
    const restart = h.sup.restart('test');
    await settle();
    h.last().becomeReady();
    assert.equal((await restart).ok, true);
    assert.equal(old.drainRequested, true);
    h.last().exitOnDrain = true;
    const done = h.sup.shutdown('SIGTERM');
    await settle();
    old.exit(null, 'SIGKILL'); // its terminateTimeout, during the stop
    assert.equal(await done, 0);
    assert.equal(h.sup.failure, undefined);
  });

  test('a worker still starting when the stop comes is stopped, not a failure', async () => {
    const h = harness({ workers: 1 });
    h.sup.start();
    const done = h.sup.shutdown('SIGTERM');
    assert.equal(await done, 0);
  });

  test('a fork while the master stops (a program that forks on exit) is drained at once', async () => {
    const h = await started({ workers: 1, replace: false });
    const done = h.sup.shutdown('SIGTERM');
    const late = h.sup.addSlot() as FakeWorker;
    assert.equal(late.drainRequested, true);
    assert.equal(await done, 0);
  });
});

describe('giving up on an app that cannot start', () => {
  /** Fails the newest worker's start with `code`, then lets its backoff pass. */
  async function failStart(h: Harness, code: number): Promise<void> {
    h.last().exit(code);
    await settle();
    h.clock.advance(60_000);
  }

  test(`the same failed start ${GIVE_UP_AFTER} times in a row, never ready: the master exits with that status`, async () => {
    const h = harness({ program: '/srv/app/bad.js' });
    h.sup.start();
    for (let i = 0; i < GIVE_UP_AFTER; i++) await failStart(h, 2);
    assert.equal(await h.sup.done, 2);
    assert.equal(h.workers.length, GIVE_UP_AFTER, 'no further try');
    assert.equal(
      h.sup.failure,
      `/srv/app/bad.js failed to start ${GIVE_UP_AFTER} times in a row, each time with status 2, and was never ready: giving up`,
    );
    assert.equal(h.events.filter((e) => e.name === 'crash').at(-1)!.payload.restartInMs, undefined);
  });

  test('a program that throws is status 1; one that exits 0 at once still makes the master fail (1)', async () => {
    const threw = harness();
    threw.sup.start();
    for (let i = 0; i < GIVE_UP_AFTER; i++) {
      threw.last().fail();
      await settle();
      threw.clock.advance(60_000);
    }
    assert.equal(await threw.sup.done, 1);
    const quits = harness();
    quits.sup.start();
    for (let i = 0; i < GIVE_UP_AFTER; i++) await failStart(quits, 0);
    assert.equal(await quits.sup.done, 1);
    assert.match(String(quits.sup.failure), /each time with status 0/);
  });

  test('another status, or a start the master ended (readyTimeout), begins a new row', async () => {
    const h = harness();
    h.sup.start();
    for (let i = 0; i < GIVE_UP_AFTER - 1; i++) await failStart(h, 2);
    await failStart(h, 3);
    assert.equal(h.sup.stopping, false, 'status 3 begins a new row');
    for (let i = 0; i < GIVE_UP_AFTER - 1; i++) await failStart(h, 3);
    assert.equal(await h.sup.done, 3);

    const t = harness();
    t.sup.start();
    for (let i = 0; i < GIVE_UP_AFTER - 1; i++) await failStart(t, 2);
    t.last().timeOut();
    await settle();
    t.clock.advance(60_000);
    for (let i = 0; i < GIVE_UP_AFTER - 1; i++) await failStart(t, 2);
    assert.equal(t.sup.stopping, false, 'the timeout broke the row');
    await failStart(t, 2);
    assert.equal(await t.sup.done, 2);
  });

  test('once a worker was ready, crashes and failed starts keep the usual backoff, for ever', async () => {
    const h = await started();
    h.last().exit(1);
    await settle();
    for (let i = 0; i < 3 * GIVE_UP_AFTER; i++) {
      h.clock.advance(60_000);
      await failStart(h, 2);
    }
    assert.equal(h.sup.stopping, false);
  });

  test('overseer/cluster (replace: false): nothing is retried, nothing gives up', async () => {
    const h = harness({ workers: 0, replace: false });
    h.sup.addSlot();
    await failStart(h, 2);
    assert.equal(h.sup.stopping, false);
    assert.equal(h.sup.slots.length, 0);
  });
});

test('noRestart: a crash ends the master with the worker’s exit code', async () => {
  const h = await started({ noRestart: true, workers: 2 });
  h.workers[1]!.exit(7);
  assert.equal(await h.sup.done, 7);
  assert.equal(h.events.find((e) => e.name === 'crash')!.payload.restartInMs, undefined);
  assert.equal(h.workers[0]!.drainRequested, true);
});

test('every order of ready, failed and exit for a starting worker moves the slot exactly once', async () => {
  type Step = 'ready' | 'fail' | 'exit';
  const orders: Step[][] = [
    ['ready', 'exit'],
    ['fail', 'exit'],
    ['exit'],
    ['exit', 'ready'],
    ['fail', 'ready', 'exit'],
    ['ready', 'fail', 'exit'],
  ];
  for (const order of orders) {
    const h = harness();
    h.sup.start();
    const w = h.workers[0]!;
    for (const step of order) {
      if (step === 'ready') w.becomeReady();
      else if (step === 'fail') w.fail();
      else w.exit(1);
      await settle();
    }
    const first = order[0]!;
    const label = order.join(' → ');
    // Whatever came first decided: ready then a death is one crash; a failure is one crash.
    assert.equal(h.count('crash'), 1, label);
    assert.equal(h.count('ready'), first === 'ready' ? 1 : 0, label);
    assert.equal(h.sup.slots[0]!.state, 'waiting', label);
    assert.equal(h.clock.pending().length, 1, label);
  }
});

test('replace: false (overseer/cluster): addSlot forks; a dead worker is not replaced and its slot goes', async () => {
  const h = harness({ workers: 0, replace: false });
  const a = h.sup.addSlot() as FakeWorker;
  const b = h.sup.addSlot() as FakeWorker;
  assert.deepEqual(
    h.sup.slots.map((s) => s.index),
    [0, 1],
  );
  a.becomeReady();
  b.becomeReady();
  await settle();
  a.exit(1);
  await settle();
  h.clock.advance(60_000);
  await settle();
  assert.equal(h.workers.length, 2, 'nothing forks a replacement: the program decides');
  assert.equal(h.count('crash'), 1);
  assert.deepEqual(h.warnings, [], 'a crash is the program’s to report, as in node:cluster');
  assert.deepEqual(
    h.sup.slots.map((s) => s.index),
    [1],
  );
  assert.deepEqual(
    h.hooks.filter((x) => x.startsWith('slotGone')),
    ['slotGone 0'],
    'its owner hears',
  );
  // A worker told to go (worker.disconnect()) takes its slot with it too.
  b.drainRequested = true;
  b.exit(0);
  await settle();
  assert.deepEqual(h.sup.slots, []);
  assert.deepEqual(
    h.hooks.filter((x) => x.startsWith('slotGone')),
    ['slotGone 0', 'slotGone 1'],
  );
  assert.equal(h.count('crash'), 1);
  const r = await h.sup.restart('reload');
  assert.deepEqual([r.ok, r.replaced], [true, 0]);
});

test('replace: false: addSlot whose spawn throws throws it, as node:cluster.fork() does, and leaves no slot', () => {
  const h = harness({ workers: 0, replace: false });
  h.spawnsThatThrow = 1;
  assert.throws(() => h.sup.addSlot(), /spawn ENOMEM/);
  assert.deepEqual(h.sup.slots, []);
  assert.ok(h.sup.addSlot() instanceof FakeWorker);
  assert.equal(h.sup.slots.length, 1);
});

test('replace: false: a reload whose new worker fails keeps the old one and its slot', async () => {
  const h = harness({ workers: 0, replace: false });
  const a = h.sup.addSlot() as FakeWorker;
  a.becomeReady();
  await settle();
  const restart = h.sup.restart('reload');
  await settle();
  h.last().exit(1);
  const r = await restart;
  assert.equal(r.ok, false);
  assert.equal(a.drainRequested, false, 'the old worker keeps serving');
  assert.deepEqual(
    h.sup.slots.map((s) => [s.index, s.state]),
    [[0, 'serving']],
  );
  const again = h.sup.restart('reload');
  await settle();
  h.last().becomeReady();
  assert.deepEqual([(await again).ok, (await again).replaced], [true, 1]);
  assert.equal(a.drainRequested, true);
});

test('restore carries on a handed-over count and leaves what is not one', () => {
  const h = harness();
  h.sup.restore({ restarts: 7, restartFailures: 1, crashes: 2, nextWorkerId: 40 });
  assert.deepEqual(h.sup.counters(), { restarts: 7, restartFailures: 1, crashes: 2, nextWorkerId: 40 });
  const g = harness();
  g.sup.restore({ restarts: -1, restartFailures: 1.5, crashes: '3', nextWorkerId: 0 });
  assert.deepEqual(g.sup.counters(), { restarts: 0, restartFailures: 0, crashes: 0, nextWorkerId: 1 });
  g.sup.start();
  assert.equal(g.workers[0]!.id, 1);
});
