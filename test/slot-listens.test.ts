// What the master keeps of listen routing, without processes: a worker's listens checked
// against what it was routed and bounded (WorkerListens), the readiness rule and which routed
// sockets stay (SlotListens, on fake workers), and the master's bound and release of its
// sockets (ListenRoutes, on real sockets in this process).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { test } from 'node:test';
import type { ListenRequest } from '../src/contract/messages.js';
import { ListenRoutes, ROUTED_LISTENS, routeKey } from '../src/master/listen-routes.js';
import { type ListeningWorker, SlotListens } from '../src/master/slot-listens.js';
import type { WorkerPhase } from '../src/master/worker-handle.js';
import { WorkerListens } from '../src/master/worker-listens.js';
import { isLinux } from './support/native.js';

/** A worker as SlotListens sees one, driven by hand, with WorkerProcess's bookkeeping. */
class FakeWorker extends EventEmitter implements ListeningWorker {
  phase: WorkerPhase = 'starting';
  drainRequested = false;
  readonly listens = new WorkerListens(() => this.drainRequested);
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  #ready = (): void => {};
  #exited = (): void => {};

  constructor(
    readonly id: number,
    readonly slot: number,
  ) {
    super();
    this.ready = new Promise((resolve) => {
      this.#ready = resolve;
    });
    this.exited = new Promise((resolve) => {
      this.#exited = resolve;
    });
  }

  /** It asks for `key` and is routed it, without listening yet. */
  ask(key: string): void {
    assert.ok(this.listens.ask(key));
    this.listens.answered(key, true);
  }

  listen(key: string): void {
    if (![...this.listens.held()].includes(key)) this.ask(key);
    assert.ok(this.listens.listened(key));
    this.emit('listening');
  }

  close(key: string): void {
    assert.ok(this.listens.closed(key));
    this.emit('closed', key);
  }

  becomeReady(): void {
    if (this.phase !== 'starting') return;
    this.phase = 'ready';
    this.#ready();
  }

  exit(): void {
    this.phase = 'exited';
    this.listens.gone();
    this.#exited();
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A fake worker whose readiness follows the rule (`overseer run --ready listening`). */
function started(slots: SlotListens, id: number, slot = 0): FakeWorker {
  const w = new FakeWorker(id, slot);
  slots.follow(w);
  slots.readyWhenServing(w, ['listening']);
  return w;
}

const held = (routes: ListenRoutes): string[] =>
  [...routes.holders()].map((h) => `${h.key}@${h.slot}`).sort();

test("a worker's listens: only what it was routed, each once, and no more addresses than its bound", () => {
  const l = new WorkerListens(() => false, 2);
  assert.equal(l.listened('tcp::80'), false, 'a listening for an address it was never routed');
  assert.ok(l.ask('tcp::80'));
  assert.equal(l.listened('tcp::80'), false, 'asked, not answered yet');
  l.answered('tcp::80', true);
  assert.ok(l.listened('tcp::80'));
  assert.equal(l.listened('tcp::80'), false, 'one routing, one listen');
  assert.ok(l.ask('tcp::81'));
  assert.equal(l.ask('tcp::82'), false, 'a third address, past the bound of 2');
  assert.ok(l.ask('tcp::80'), 'the same address again is no new one');
  l.answered('tcp::81', false); // refused: its room is free again
  assert.ok(l.ask('tcp::82'));
  assert.equal(l.closed('tcp::82'), false, 'a close where it does not listen');
  assert.ok(l.closed('tcp::80'));
  assert.deepEqual([...l.listening], []);
  assert.equal(l.closed('tcp::80'), false, 'closed twice');
});

test('what a worker serves: what it listens on of what it asked for at its start, as it was when asked to go', () => {
  let leaving = false;
  const l = new WorkerListens(() => leaving);
  for (const k of ['a', 'b', 'c']) {
    l.ask(k);
    l.answered(k, true);
  }
  l.listened('a');
  l.endStart(); // ready and listening
  l.listened('b'); // asked at its start, listening a little later: it counts
  l.ask('lazy'); // a port opened on first use: it does not
  l.answered('lazy', true);
  l.listened('lazy');
  assert.deepEqual(l.served(), ['a', 'b'], 'c never listened; lazy came later');
  l.closed('b');
  assert.deepEqual(l.served(), ['a'], 'what it closed it no longer serves');
  l.listened('c');
  leaving = true;
  l.closed('a'); // its drain closes its servers: what it served stays as it was
  l.closed('c');
  assert.deepEqual(l.served(), ['a', 'c']);
  l.gone();
  assert.deepEqual([l.served(), [...l.held()], [...l.listening]], [['a', 'c'], [], []]);
});

test('the readiness rule: a new worker listens on what its slot serves, not on a port opened late or closed', async () => {
  const slots = new SlotListens(new ListenRoutes(), true);
  const w1 = started(slots, 1);
  w1.ask('b'); // two servers at start; the first to listen makes it ready
  w1.listen('a');
  await tick();
  assert.equal(w1.phase, 'ready');
  w1.listen('b');
  w1.listen('lazy');
  assert.deepEqual([...slots.required(0)].sort(), ['a', 'b']);
  const w2 = started(slots, 2);
  w2.listen('a');
  assert.equal(w2.phase, 'starting', 'b is still served');
  w1.close('b'); // the old one closes b: the new one need not listen on it
  assert.equal(w2.phase, 'ready');
  // Another slot has its own.
  const other = started(slots, 3, 1);
  other.listen('x');
  assert.equal(other.phase, 'ready', 'nothing served there yet: its first listen');
});

test("overseer run: a crashed worker's slot keeps its sockets until its next worker serves; a late port goes with the worker", async () => {
  const routes = new ListenRoutes();
  const slots = new SlotListens(routes, true);
  const w1 = started(slots, 1);
  w1.listen('a');
  await tick();
  w1.listen('lazy');
  assert.deepEqual(held(routes), ['a@0', 'lazy@0']);
  w1.exit(); // a crash
  await tick();
  assert.deepEqual(held(routes), ['a@0'], 'the port stays open through the crash loop');
  const w2 = started(slots, 2);
  w2.ask('a');
  w2.exit(); // it dies at its start too
  await tick();
  assert.deepEqual(slots.required(0), ['a']);
  const w3 = started(slots, 3);
  w3.listen('a');
  await tick();
  assert.equal(w3.phase, 'ready');
  assert.deepEqual(held(routes), ['a@0']);
  // A restart: the old worker asked to go, then gone; the new one serves what it served.
  const w4 = started(slots, 4);
  w4.listen('a');
  await tick();
  w3.drainRequested = true;
  w3.close('a');
  w3.exit();
  await tick();
  assert.deepEqual(held(routes), ['a@0']);
});

test('overseer/cluster: a worker that leaves takes its slot with it; a crashed one serves until the program forks again', async () => {
  const routes = new ListenRoutes();
  const slots = new SlotListens(routes, false);
  const cluster = (id: number): FakeWorker => {
    const w = new FakeWorker(id, id);
    slots.follow(w);
    slots.readyWhenServing(w, ['online', 'listening']);
    w.emit('online');
    return w;
  };
  const w1 = cluster(1);
  assert.equal(w1.phase, 'ready', 'nothing to wait for: ready when online');
  w1.listen('a');
  await tick();
  w1.exit(); // a crash
  await tick();
  assert.deepEqual(held(routes), ['a@1'], 'kept through the crash loop');
  const w2 = cluster(2);
  w2.exit(); // dies before it listens
  await tick();
  assert.deepEqual(held(routes), ['a@1']);
  const w3 = cluster(3);
  w3.listen('a');
  await tick();
  assert.deepEqual(held(routes), ['a@3'], 'the program is back: only what its workers hold');
  w3.drainRequested = true; // worker.disconnect()
  w3.close('a');
  w3.exit();
  await tick();
  assert.deepEqual(held(routes), [], 'nothing left to serve it');
});

test('the master keeps at most its bound of sockets, and closes one nothing held for a while', {
  skip: !isLinux && 'counts fds in /proc',
}, async () => {
  const routes = new ListenRoutes(false, 2);
  const request = (index: number): ListenRequest => ({ host: '127.0.0.1', port: 0, index });
  // The sockets' own fds, not the process's count, which other handles move under load.
  const open = (fd: number): boolean => fs.existsSync(`/proc/self/fd/${fd}`);
  const fds = (): number[] => routes.handoff().map((s) => s.fd);
  let made: number[] = [];
  try {
    await routes.route(request(0));
    await routes.route(request(1));
    await assert.rejects(routes.route(request(2)), { code: 'ERR_OVERSEER_LISTEN_LIMIT' });
    await routes.route(request(0)); // the same socket again
    made = fds();
    assert.equal(made.length, 2);
    assert.ok(made.every(open));
    routes.holders = () => [{ key: routeKey(request(0)), slot: 0 }];
    const released: string[] = [];
    routes.onReleased = (key) => released.push(key);
    routes.release(1_000);
    routes.release(1_000 + ROUTED_LISTENS.unheldMs - 1);
    assert.deepEqual(released, [], 'not yet');
    routes.keepFiles = true; // a handoff under way: nothing is released
    routes.release(1_000 + ROUTED_LISTENS.unheldMs);
    assert.deepEqual(released, []);
    routes.keepFiles = false;
    routes.release(1_000 + ROUTED_LISTENS.unheldMs);
    assert.deepEqual(released, [routeKey(request(1))]);
    assert.deepEqual(routes.keys(), [routeKey(request(0))]);
    assert.equal(fds().length, 1, 'one socket left');
    assert.equal(made.filter(open).length, 1, 'the released one is closed');
    await routes.route(request(2)); // room again
    made = [...new Set([...made, ...fds()])];
  } finally {
    routes.close();
  }
  assert.deepEqual(made.filter(open), [], 'every socket closed');
});

test("status's addresses come from the master's own sockets: every interface as ':port' only where the listen asked for every interface", async () => {
  const routes = new ListenRoutes();
  try {
    await routes.route({ host: '', port: 0, index: 0 });
    await routes.route({ host: '0.0.0.0', port: 0, index: 1 });
    await routes.route({ host: '127.0.0.1', port: 0, index: 2 });
    const shown = routes.addresses();
    assert.equal(shown.length, 3);
    assert.match(shown[0]!, /^:\d+$/);
    assert.match(shown[1]!, /^0\.0\.0\.0:\d+$/, 'an IPv4-only socket is not every interface');
    assert.match(shown[2]!, /^127\.0\.0\.1:\d+$/);
    assert.ok(
      shown.every((a) => !a.endsWith(':0')),
      'ports as bound',
    );
  } finally {
    routes.shut();
  }
});
