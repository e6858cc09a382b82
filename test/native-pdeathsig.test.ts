// setParentDeathSignal: a grandchild arms SIGKILL, its parent is SIGKILLed, and the kernel
// kills the grandchild too, even though nothing in JS tells it to exit.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../src/os/native.js';
import { isLinux, startFixture, sysError } from './support/native.js';
import { processAlive, signalAll, stopAll } from './support/process.js';

const strays: number[] = [];
after(async () => {
  await stopAll();
  signalAll(strays, 'SIGKILL');
});

/**
 * Starts a parent whose child arms SIGKILL as its parent-death signal (and with 'disarm', then
 * sets 0), SIGKILLs the parent, and watches the child for `ms`: resolves with whether it lived.
 */
async function childOutlivesParent(mode: 'arm' | 'disarm', ms: number): Promise<boolean> {
  const parent = startFixture('pdeathsig-parent', [mode]);
  const armed = await parent.message('armed');
  assert.equal(armed.mode, mode);
  const childPid = armed.pid as number;
  strays.push(childPid);
  assert.ok(processAlive(childPid));

  process.kill(parent.pid, 'SIGKILL');
  await parent.waitExit(5_000);
  const start = Date.now();
  while (processAlive(childPid) && Date.now() - start < ms) await sleep(10);
  return processAlive(childPid);
}

test('the child dies within 1 s of its parent', {
  skip: !isLinux && 'Linux only',
  timeout: 30_000,
}, async () => {
  assert.equal(await childOutlivesParent('arm', 1_000), false, 'the armed child outlived its parent');
});

test('ENOTSUP where there is no PR_SET_PDEATHSIG', { skip: isLinux && 'Linux has it' }, () => {
  assert.throws(() => native().setParentDeathSignal(9), sysError('ENOTSUP', 'prctl'));
});

test('signal 0 disarms it: the child outlives its parent', {
  skip: !isLinux && 'Linux only',
  timeout: 30_000,
}, async () => {
  // Twice as long as an armed child is given to die.
  assert.equal(await childOutlivesParent('disarm', 2_000), true, 'the disarmed child died with its parent');
});
