// The old master's end of a handoff: the listener its new master connects to. It admits only
// the new master's pid, times out as the addon's accept does (the old master's "not ready
// within readyTimeout"), and a close() ends an accept in flight at once: a handoff whose new
// master exited before it connected left the accept waiting on the threadpool, and the old
// master's stop with it, until readyTimeout.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { errorCode } from '../src/errors.js';
import { posixHandoff } from '../src/os/posix-handoff.js';

const skip = process.platform === 'win32' ? 'POSIX only (Windows refuses a handoff)' : false;

/** How a promise settled, and after how many ms. */
async function settled<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

test('an accept no one connects to ends with the addon timeout (ETIMEDOUT from accept)', {
  skip,
}, async () => {
  const listener = await posixHandoff.listen();
  try {
    const r = await settled(listener.accept(process.pid, 350));
    assert.equal(errorCode(r.error), 'ETIMEDOUT');
    assert.equal((r.error as { syscall?: string }).syscall, 'accept');
    assert.ok(r.ms >= 300, `it waited ${Math.round(r.ms)} ms of 350`);
  } finally {
    listener.close();
  }
});

test('close() ends an accept in flight within a moment, and removes the directory', { skip }, async () => {
  const listener = await posixHandoff.listen();
  const accepting = settled(listener.accept(process.pid, 20_000));
  await new Promise((resolve) => setTimeout(resolve, 150));
  const closedAt = performance.now();
  listener.close();
  const r = await accepting;
  const after = performance.now() - closedAt;
  assert.equal(errorCode(r.error), 'ERR_OVERSEER_HANDOFF', String(r.error));
  assert.ok(after < 2_000, `the accept ended ${Math.round(after)} ms after close() (its timeout: 20000)`);
  assert.equal(fs.existsSync(path.dirname(listener.path)), false);
});

test('only the expected pid is admitted: another peer is hung up on, and the wait goes on', {
  skip,
}, async () => {
  const listener = await posixHandoff.listen();
  try {
    // This process connects: refused when another pid is expected, admitted when it is.
    const refused = settled(listener.accept(process.pid + 1_000_000, 600));
    const stranger = await posixHandoff.connect(listener.path, 2_000);
    const r = await refused;
    assert.ok(r.error !== undefined, 'a stranger was admitted');
    assert.ok(r.ms >= 500, `the wait went on past the stranger (${Math.round(r.ms)} ms)`);
    await assert.rejects(stranger.receive(1_000), /hung up/);
    stranger.close();
    const admitted = settled(listener.accept(process.pid, 5_000));
    const peer = await posixHandoff.connect(listener.path, 2_000);
    const ok = await admitted;
    assert.equal(ok.error, undefined, String(ok.error));
    await peer.send({ kind: 'commit' });
    assert.deepEqual((await ok.value!.receive(2_000)).message, { kind: 'commit' });
    ok.value!.close();
    peer.close();
  } finally {
    listener.close();
  }
});
