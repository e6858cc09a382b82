// The cluster primary's count of a signal's listeners that are the program's own: overseer's and
// signal-exit's (v4, the real one; v3, by its global) are not, and what another library left in
// those globals never makes the count wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { onExit } from 'signal-exit';
import { programListeners } from '../src/cluster/program-listeners.js';

const SIG = 'SIGTERM';
const own = (): void => {};
const overseers = (): void => {};

type WithV3 = { __signal_exit_emitter__?: unknown };

test("a signal's listeners: the program's own are all but overseer's", () => {
  const base = process.listenerCount(SIG);
  process.prependListener(SIG, overseers);
  try {
    assert.equal(programListeners(SIG, 1), base);
    process.on(SIG, own);
    assert.equal(programListeners(SIG, 1), base + 1);
  } finally {
    process.off(SIG, own);
    process.off(SIG, overseers);
  }
});

test("signal-exit v4's listeners (an exit hook, not a stop of the program's) are not the program's own", () => {
  // Each signal's own: the test runner may listen for SIGTERM itself (node 24's does).
  const base = programListeners(SIG, 0);
  const baseUsr2 = programListeners('SIGUSR2', 0);
  const removeHook = onExit(() => {});
  try {
    assert.ok(process.listenerCount(SIG) > base, 'signal-exit listens for SIGTERM');
    assert.equal(programListeners(SIG, 0), base);
    assert.equal(programListeners('SIGUSR2', 0), baseUsr2);
    process.on(SIG, own);
    assert.equal(programListeners(SIG, 0), base + 1, "the program's own still counts");
  } finally {
    process.off(SIG, own);
    removeHook();
  }
  assert.equal(programListeners(SIG, 0), base);
});

test("signal-exit v3's listeners are not the program's own; its global is read defensively", () => {
  const p = process as WithV3;
  const base = programListeners(SIG, 0);
  const v3 = (): void => {};
  process.on(SIG, v3);
  try {
    p.__signal_exit_emitter__ = { count: 1 };
    assert.equal(programListeners(SIG, 0), base);
    for (const bad of [{ count: '1' }, { count: -1 }, { count: 0.5 }, { count: Number.NaN }, null, 7]) {
      p.__signal_exit_emitter__ = bad;
      assert.equal(programListeners(SIG, 0), base + 1, JSON.stringify(bad));
    }
    // A count past the listeners there are (a copy unloaded behind its back): never below 0.
    p.__signal_exit_emitter__ = { count: 1000 };
    assert.equal(programListeners(SIG, 0), 0);
  } finally {
    delete p.__signal_exit_emitter__;
    process.off(SIG, v3);
  }
});
