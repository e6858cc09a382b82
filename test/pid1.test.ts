// The master as PID 1 (a container's init, here a new pid namespace: `unshare --pid --fork`):
// it reaps the orphans its workers leave behind, which the kernel hands to PID 1, and it
// still hears its signals (a PID 1 ignores any signal it has no handler for). It refuses a
// reexec: when PID 1 exits the kernel kills the whole namespace, its new master included.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { APP } from './support/app.js';
import { get } from './support/http.js';
import { describeErrors, startLoad } from './support/load.js';
import { PID_NAMESPACE, unshareSkip } from './support/pid-namespace.js';
import { childrenOf, signalAll, stopAll, TestProcess } from './support/process.js';

const skip = unshareSkip;
/** The master inside the namespace (this test did not start it itself). */
let master = 0;
after(async () => {
  if (master) signalAll([master], 'SIGKILL');
  await stopAll();
});
const stat = (pid: number): { comm: string; state: string } | undefined => {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), state: s[s.lastIndexOf(')') + 2]! };
  } catch {
    return undefined;
  }
};

test('as PID 1 the master reaps the orphans it inherits, restarts under load and stops on SIGTERM', {
  skip,
}, async () => {
  const unshare = new TestProcess(PID_NAMESPACE[0], [...PID_NAMESPACE.slice(1), process.execPath, APP], {
    env: { APP: JSON.stringify({ overseer: { address: '127.0.0.1:0', workers: 2 }, orphans: 3 }) },
  });
  await unshare.nth('ready', 2);
  [master = 0] = childrenOf(unshare.pid); // the master: PID 1 inside, this pid outside
  assert.ok(master, 'the master runs');
  // The orphans are the master's children now (PID 1 inherits them) …
  let adopted = 0;
  for (let i = 0; i < 40 && adopted === 0; i++) {
    adopted = childrenOf(master).filter((p) => stat(p)?.comm === 'sleep').length;
    await sleep(10);
  }
  assert.ok(adopted > 0, 'the orphaned sleeps were handed to PID 1');
  // … and once they exit, none of them stays a zombie.
  await sleep(1_200);
  const zombies = childrenOf(master).filter((p) => stat(p)?.state === 'Z');
  assert.deepEqual(
    zombies.map((p) => stat(p)?.comm),
    [],
    'no zombie left',
  );

  const listening = await unshare.nth('listening', 1);
  const port = Number((listening.addresses as string[])[0]!.split(':').at(-1));
  const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 30_000 });
  await sleep(200);
  process.kill(master, 'SIGUSR2'); // heard: the master handles it
  const restart = await unshare.nth('restart', 1, 10_000);
  assert.equal(restart.ok, true);
  const result = await load.stop();
  assert.equal(result.failed, 0, describeErrors(result));
  await sleep(1_200); // the restart's new workers left orphans too
  assert.deepEqual(
    childrenOf(master).filter((p) => stat(p)?.state === 'Z'),
    [],
  );

  process.kill(master, 'SIGTERM');
  const { code } = await unshare.exited;
  assert.equal(code, 0, 'a graceful stop as PID 1');
});

test('as PID 1 the master refuses reexec (its exit would end the namespace) and serves on', {
  skip,
}, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-pid1-'));
  const sock = path.join(dir, 'c.sock');
  try {
    const unshare = new TestProcess(PID_NAMESPACE[0], [...PID_NAMESPACE.slice(1), process.execPath, APP], {
      env: { APP: JSON.stringify({ overseer: { address: '127.0.0.1:0', ipcPath: sock } }) },
    });
    await unshare.nth('ready', 1);
    [master = 0] = childrenOf(unshare.pid);
    const listening = await unshare.nth('listening', 1);
    const port = Number((listening.addresses as string[])[0]!.split(':').at(-1));
    const r = await ipcRequest(sock, 'POST', '/overseer/reexec', 30_000);
    const body = r.body as { ok: boolean; code: string; error: string };
    assert.equal(r.status, 500, JSON.stringify(body));
    assert.deepEqual([body.ok, body.code], [false, 'ERR_OVERSEER_HANDOFF']);
    assert.match(body.error, /PID 1/);
    assert.match(body.error, /overseer restart/);
    await sleep(300);
    assert.equal((await get(port)).status, 200, 'the master serves on');
    const s = (await ipcRequest(sock, 'GET', '/overseer/status')).body as { pid: number };
    assert.equal(s.pid, 1, 'the same master answers');
    process.kill(master, 'SIGTERM');
    assert.equal((await unshare.exited).code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
