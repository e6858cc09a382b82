// An interrupted master handoff ends in one master (issue #20, row 11). The pause between the
// fds passing and the commit is a new master whose workers are not ready yet (the hang flag):
// a stop signal to the old master then ends the handoff (the new master is killed, the old one
// stops as asked); a SIGKILL of the old master leaves the new one the only master, with the
// control socket; and no handoff leaves its temporary directory behind, a SIGKILLed one at the
// next master's start at the latest.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { childrenOf, eventually, signalAll, stopAll, waitGone } from './support/process.js';

const skip = process.platform === 'linux' ? false : 'Linux (a handoff is POSIX; /proc)';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-interrupted-'));
/** Masters a handoff started (not known to stopAll()). */
const masters = new Set<number>();
after(async () => {
  await stopAll();
  signalAll(masters, 'SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A child of `pid` that is a new master, and the handoff's socket it was told (OVERSEER_HANDOFF). */
function newMasterOf(pid: number): { pid: number; handoff: string } | undefined {
  for (const child of childrenOf(pid)) {
    try {
      const env = fs.readFileSync(`/proc/${child}/environ`, 'utf8').split('\0');
      const at = env.find((e) => e.startsWith('OVERSEER_HANDOFF='));
      if (at) return { pid: child, handoff: at.slice('OVERSEER_HANDOFF='.length) };
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * A master whose next handoff stops between the fds passing and the commit: the new master
 * has the sockets and has started its worker, which hangs (it is not ready).
 */
async function handoffUnderWay(readyTimeout: number) {
  const sock = path.join(tmp, `c${masters.size}-${Date.now()}.sock`);
  const hang = path.join(tmp, `hang-${Date.now()}`);
  const old = new AppProcess({
    overseer: { address: '127.0.0.1:0', ipcPath: sock, readyTimeout },
    hangFlag: hang,
  });
  const port = await old.port();
  await old.nth('ready', 1);
  fs.writeFileSync(hang, ''); // the new master's workers hang
  const answer = ipcRequest(sock, 'POST', '/overseer/reexec', 60_000).catch((err: Error) => err);
  const started = await old.until(() => newMasterOf(old.pid), 10_000, 'the new master');
  masters.add(started.pid);
  // The fds have passed once the new master has started a worker on them.
  await old.until(() => childrenOf(started.pid).length > 0 || undefined, 10_000, "the new master's worker");
  const newWorkers = childrenOf(started.pid);
  return {
    old,
    port,
    sock,
    hang,
    answer,
    newMaster: started.pid,
    newWorkers,
    dir: path.dirname(started.handoff),
  };
}

describe('an interrupted handoff', { skip }, () => {
  test('before the commit only the old master answers on the control socket: a second reexec joins the first', async () => {
    const h = await handoffUnderWay(30_000);
    // The new master has the control socket's fd, but serves it only once it is committed.
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const s = (await ipcRequest(h.sock, 'GET', '/overseer/status', 5_000)).body as { pid: number };
      pids.add(s.pid);
    }
    assert.deepEqual([...pids], [h.old.pid], 'every status came from the old master');
    // A second request joins the handoff under way: no new master starts a handoff of its own.
    const second = ipcRequest(h.sock, 'POST', '/overseer/reexec', 60_000).catch((err: Error) => err);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(newMasterOf(h.newMaster), undefined, 'the new master started no new master');
    h.old.signal('SIGTERM');
    await waitGone([h.newMaster, ...h.newWorkers], 5_000);
    assert.equal((await h.old.waitExit(15_000)).code, 0);
    const [first, joined] = await Promise.all([h.answer, second]);
    if (!(first instanceof Error) && !(joined instanceof Error)) assert.deepEqual(joined.body, first.body);
  });

  test('SIGTERM to the old master: the new master is killed, the old one stops as asked, nothing is left', async () => {
    const h = await handoffUnderWay(30_000);
    h.old.signal('SIGTERM');
    await waitGone([h.newMaster, ...h.newWorkers], 5_000);
    const exit = await h.old.waitExit(15_000);
    assert.equal(exit.code, 0, h.old.stderr.join('\n'));
    const answer = await h.answer;
    if (!(answer instanceof Error)) {
      const body = answer.body as { ok: boolean; code: string; error: string };
      assert.deepEqual([body.ok, body.code], [false, 'ERR_OVERSEER_HANDOFF']);
      assert.match(body.error, /aborted/);
    }
    assert.equal(fs.existsSync(h.dir), false, 'the handoff directory is gone');
    assert.equal(fs.existsSync(h.sock), false, 'the control socket file is gone with the stopped master');
    await assert.rejects(get(h.port, { timeoutMs: 2_000 }), 'no master serves');
  });

  test('SIGKILL to the old master (its end removed the socket file): the new master serves, with its control socket', async () => {
    const h = await handoffUnderWay(3_000);
    h.old.kill();
    await h.old.waitExit(5_000);
    // A crash runs the old master's exit handlers, which remove the socket file.
    fs.rmSync(h.sock, { force: true });
    fs.rmSync(h.hang); // the next worker of the new master becomes ready
    const status = await eventually(
      async () => {
        const s = (await ipcRequest(h.sock, 'GET', '/overseer/status', 2_000)).body as {
          pid: number;
          workers: { state: string }[];
        };
        return s.workers.some((w) => w.state === 'ready') ? s : undefined;
      },
      20_000,
      'the new master ready at the path',
    );
    assert.equal(status.pid, h.newMaster, 'the new master answers at the path');
    assert.equal((await get(h.port)).status, 200);
    assert.equal(fs.existsSync(h.dir), false, 'the handoff directory is gone');
    // It owns the files now: its own stop removes the control socket.
    process.kill(h.newMaster, 'SIGTERM');
    await waitGone(h.newMaster, 15_000);
    assert.equal(fs.existsSync(h.sock), false);
  });

  test('SIGKILL to the old master while the new one is not ready: the new master answers on the control socket at once', async () => {
    const h = await handoffUnderWay(30_000); // its workers hang: it may not be ready for long
    h.old.kill();
    await h.old.waitExit(5_000);
    const status = await eventually(
      async () => (await ipcRequest(h.sock, 'GET', '/overseer/status', 1_000)).body as { pid: number },
      10_000,
      'the new master answering before its workers are ready',
    );
    assert.equal(status.pid, h.newMaster);
    fs.rmSync(h.hang);
    process.kill(h.newMaster, 'SIGTERM');
    await waitGone(h.newMaster, 15_000);
  });

  test("a SIGKILLed master's handoff directory goes at the next master's start; a live one's stays", async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const left = fs.mkdtempSync(path.join(os.tmpdir(), `overseer-handoff-${dead}-`));
    fs.writeFileSync(path.join(left, 'h.sock'), '');
    const live = fs.mkdtempSync(path.join(os.tmpdir(), `overseer-handoff-${process.pid}-`));
    try {
      const a = new AppProcess({ overseer: { address: '127.0.0.1:0', ipcPath: '' } });
      await a.nth('ready', 1);
      await a.until(() => !fs.existsSync(left) || undefined, 5_000, 'the left directory gone');
      assert.equal(fs.existsSync(live), true);
      await a.stop();
    } finally {
      fs.rmSync(left, { recursive: true, force: true });
      fs.rmSync(live, { recursive: true, force: true });
    }
  });
});
