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

test('the child dies within 1 s of its parent', {
  skip: !isLinux && 'Linux only',
  timeout: 30_000,
}, async () => {
  const parent = startFixture('pdeathsig-parent');
  const armed = await parent.message('armed');
  const childPid = armed.pid as number;
  strays.push(childPid);
  assert.ok(processAlive(childPid));

  process.kill(parent.pid, 'SIGKILL');
  await parent.waitExit(5_000);
  const start = Date.now();
  while (processAlive(childPid) && Date.now() - start < 1_000) await sleep(10);
  assert.equal(
    processAlive(childPid),
    false,
    `child ${childPid} outlived its parent by ${Date.now() - start} ms`,
  );
});

test('ENOTSUP where there is no PR_SET_PDEATHSIG', { skip: isLinux && 'Linux has it' }, () => {
  assert.throws(() => native().setParentDeathSignal(9), sysError('ENOTSUP', 'prctl'));
});

test('signal 0 disarms it', { skip: !isLinux && 'Linux only' }, () => {
  native().setParentDeathSignal(0);
});
