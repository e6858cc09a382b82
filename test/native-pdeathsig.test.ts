// The parent's death, as the kernel reports it: setParentDeathSignal (a grandchild arms
// SIGKILL, its parent is SIGKILLed, and the kernel kills the grandchild too, even though
// nothing in JS tells it to exit), and killOnParentDeath (the kernel's SIGKILL comes a delay
// later, so a child that exits by itself on its IPC channel's disconnect exits normally).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../src/os/native.js';
import { isLinux, makeTempDir, startFixture, sysError } from './support/native.js';
import { processAlive, signalAll, stopAll } from './support/process.js';

const strays: number[] = [];
const tmp = makeTempDir();
after(async () => {
  await stopAll();
  signalAll(strays, 'SIGKILL');
  tmp.cleanup();
});

type Mode = 'arm' | 'disarm' | 'delay' | 'exit-on-disconnect';

/**
 * Starts a parent whose child arms its parent's death as `mode` says, SIGKILLs the parent,
 * and watches the child for `ms`: resolves with how long it lived (ms), or undefined if it
 * outlived the watch.
 */
async function childLife(mode: Mode, ms: number, args: string[] = []): Promise<number | undefined> {
  const parent = startFixture('pdeathsig-parent', [mode, ...args]);
  const armed = await parent.message('armed');
  assert.equal(armed.mode, mode);
  const childPid = armed.pid as number;
  strays.push(childPid);
  assert.ok(processAlive(childPid));

  process.kill(parent.pid, 'SIGKILL');
  await parent.waitExit(5_000);
  const start = Date.now();
  while (processAlive(childPid) && Date.now() - start < ms) await sleep(10);
  return processAlive(childPid) ? undefined : Date.now() - start;
}

const linuxOnly = { skip: !isLinux && 'Linux only', timeout: 30_000 };

test('the child dies within 1 s of its parent', linuxOnly, async () => {
  assert.notEqual(await childLife('arm', 1_000), undefined, 'the armed child outlived its parent');
});

test('ENOTSUP where there is no PR_SET_PDEATHSIG', { skip: isLinux && 'Linux has it' }, () => {
  assert.throws(() => native().setParentDeathSignal(9), sysError('ENOTSUP', 'prctl'));
  assert.throws(() => native().killOnParentDeath(1_000), sysError('ENOTSUP', 'prctl'));
});

test('signal 0 disarms it: the child outlives its parent', linuxOnly, async () => {
  // Twice as long as an armed child is given to die.
  assert.equal(await childLife('disarm', 2_000), undefined, 'the disarmed child died with its parent');
});

test(
  'killOnParentDeath: a child that ignores the death is SIGKILLed about 1 s later',
  linuxOnly,
  async () => {
    const lived = await childLife('delay', 3_000);
    assert.notEqual(lived, undefined, 'the child outlived its parent');
    assert.ok(lived! >= 800 && lived! <= 2_000, `it lived ${lived} ms after its parent`);
  },
);

test(
  'killOnParentDeath: a child that exits on the disconnect exits normally, its exit handlers run',
  linuxOnly,
  async () => {
    const file = path.join(tmp.dir, 'exited');
    const lived = await childLife('exit-on-disconnect', 3_000, [file]);
    assert.notEqual(lived, undefined, 'the child outlived its parent');
    assert.ok(lived! < 800, `it exited ${lived} ms after its parent, by the kernel's SIGKILL?`);
    assert.ok(fs.existsSync(file), 'its exit handler ran');
  },
);
