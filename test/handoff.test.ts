// The master handoff (reexec): a new master takes over every socket and the control socket
// over SCM_RIGHTS, starts its workers on them, and only then does the old one drain and exit.
// Under load: 0 failed requests and 0 refused connections across 5 handoffs in a row, with 1
// and 2 workers; a new master that fails is killed and the old one carries on; overseer run's
// routed sockets move too.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { describeErrors, startLoad } from './support/load.js';
import { CLI, fixture } from './support/paths.js';
import { node, signalAll, stopAll, waitGone } from './support/process.js';

const skip = process.platform === 'win32' ? 'POSIX only (Windows refuses a handoff)' : false;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-handoff-'));
/** Masters started by a handoff (not by this test, so not known to stopAll()). */
const masters = new Set<number>();
after(async () => {
  await stopAll();
  signalAll(masters, 'SIGTERM');
  await sleep(500);
  fs.rmSync(tmp, { recursive: true, force: true });
});

let sockets = 0;
const socketPath = (): string => path.join(tmp, `c${++sockets}.sock`);

async function reexec(sock: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await ipcRequest(sock, 'POST', '/overseer/reexec', 60_000);
  return { status: r.status, body: r.body as Record<string, unknown> };
}

async function status(
  sock: string,
): Promise<{ pid: number; workers: { state: string }[]; addresses: string[] }> {
  return (await ipcRequest(sock, 'GET', '/overseer/status')).body as never;
}

describe('master handoff', { skip }, () => {
  for (const workers of [1, 2]) {
    test(`5 handoffs in a row under load, ${workers} worker(s): 0 failed, 0 refused; each old master exits with 0`, async () => {
      const sock = socketPath();
      const a = new AppProcess({ overseer: { address: '127.0.0.1:0', workers, ipcPath: sock } });
      const port = await a.port();
      await a.nth('ready', workers);
      // Keep-alive connections, and new connections for every request (a refused one would show).
      const kept = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 90_000 });
      const fresh = startLoad({ port, concurrency: 4, keepAlive: false, maxMs: 90_000 });
      await sleep(300);
      let old = a.pid;
      const pids = [old];
      for (let i = 0; i < 5; i++) {
        const r = await reexec(sock);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.ok, true);
        const pid = Number(r.body.pid);
        masters.add(pid);
        assert.notEqual(pid, old);
        await waitGone(old);
        const s = await status(sock);
        assert.equal(s.pid, pid, 'the control socket moved to the new master');
        assert.equal(s.workers.filter((w) => w.state === 'ready').length, workers);
        pids.push(pid);
        old = pid;
        await sleep(200);
      }
      const [k, f] = await Promise.all([kept.stop(), fresh.stop()]);
      assert.equal(k.failed, 0, describeErrors(k));
      assert.equal(f.failed, 0, describeErrors(f));
      assert.ok(k.ok + f.ok > 500, `too little load got through (${k.ok + f.ok})`);
      assert.deepEqual(await a.exited, { code: 0, signal: null }, 'the first master exited with 0');
      assert.equal(new Set(pids).size, 6);
      process.kill(old, 'SIGTERM');
      await waitGone(old);
      assert.equal(fs.existsSync(sock), false, 'the last master removes the control socket');
    });
  }

  test("the new master's own config: its new address is bound, the old one it kept is the same socket, counts carry over", async () => {
    const sock = socketPath();
    const configFile = path.join(tmp, 'config.json');
    const a = new AppProcess({ overseer: { addresses: ['127.0.0.1:0'], ipcPath: sock }, configFile });
    const port = await a.port();
    await a.nth('ready', 1);
    const restarted = await ipcRequest(sock, 'POST', '/overseer/restart');
    assert.equal(restarted.status, 200);
    // The next master listens on this port and a new one (':0' twice would be two new ports).
    fs.writeFileSync(
      configFile,
      JSON.stringify({ address: undefined, addresses: [`127.0.0.1:${port}`, '127.0.0.1:0'] }),
    );
    const before = (await ipcRequest(sock, 'GET', '/overseer/status')).body as { workers: { id: number }[] };
    const newestBefore = Math.max(...before.workers.map((w) => w.id));
    const load = startLoad({ port, concurrency: 4, keepAlive: false, maxMs: 30_000 });
    const r = await reexec(sock);
    assert.equal(r.body.ok, true, `${JSON.stringify(r.body)}: ${a.stderr.join('\n')}`);
    masters.add(Number(r.body.pid));
    const result = await load.stop();
    assert.equal(result.failed, 0, describeErrors(result));
    const s = (await ipcRequest(sock, 'GET', '/overseer/status')).body as {
      addresses: string[];
      restarts: number;
      workers: { id: number }[];
    };
    assert.equal(s.addresses.length, 2);
    assert.equal(s.addresses[0], `127.0.0.1:${port}`);
    assert.notEqual(s.addresses[1], `127.0.0.1:${port}`);
    assert.equal(s.restarts, 1, 'the restart count carried over');
    assert.equal(newestBefore, 2, 'the first worker and its restart');
    assert.deepEqual(
      s.workers.map((w) => w.id),
      [3],
      'worker ids carry on across masters',
    );
  });

  test('a new master that is not ready in time is killed; the old one carries on, serving', async () => {
    const sock = socketPath();
    const hang = path.join(tmp, 'hang');
    const a = new AppProcess({
      overseer: { address: '127.0.0.1:0', ipcPath: sock, readyTimeout: 1_500 },
      hangFlag: hang,
    });
    const port = await a.port();
    await a.nth('ready', 1);
    fs.writeFileSync(hang, ''); // the new master's workers never become ready
    const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 30_000 });
    const [r, joined] = await Promise.all([reexec(sock), reexec(sock)]);
    fs.rmSync(hang);
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'ERR_OVERSEER_HANDOFF');
    assert.match(String(r.body.error), /not ready within 1500 ms/);
    assert.deepEqual(joined.body, r.body, 'a second request joined the first');
    const result = await load.stop();
    assert.equal(result.failed, 0, describeErrors(result));
    const s = await status(sock);
    assert.equal(s.pid, a.pid, 'the old master still answers');
    // And a handoff after that goes through.
    const again = await reexec(sock);
    assert.equal(again.body.ok, true, JSON.stringify(again.body));
    masters.add(Number(again.body.pid));
  });

  test('a new master that gives up (its workers throw at start): the result says it exited, not that it hung up', async () => {
    const sock = socketPath();
    const fail = path.join(tmp, 'fail');
    const a = new AppProcess({ overseer: { address: '127.0.0.1:0', ipcPath: sock }, failFlag: fail });
    await a.nth('ready', 1);
    fs.writeFileSync(fail, ''); // the new master's workers throw
    try {
      const r = await reexec(sock);
      assert.equal(r.status, 500);
      assert.equal(r.body.code, 'ERR_OVERSEER_HANDOFF');
      assert.match(String(r.body.error), /the new master exited \(code \d+\) before it was ready/);
    } finally {
      fs.rmSync(fail);
    }
    assert.equal((await status(sock)).pid, a.pid, 'the old master still answers');
  });

  test('a reexec during a restart waits for it: the restart succeeds, then the handoff', async () => {
    const sock = socketPath();
    const delay = path.join(tmp, 'delay');
    const a = new AppProcess({ overseer: { address: '127.0.0.1:0', ipcPath: sock }, readyDelayFile: delay });
    await a.nth('ready', 1);
    fs.writeFileSync(delay, '3000'); // the restart's new worker takes 3 s; the new master's are quick
    try {
      const restart = ipcRequest(sock, 'POST', '/overseer/restart', 60_000);
      await a.until(() => !fs.existsSync(delay) || undefined, 10_000, "the restart's worker");
      const r = await reexec(sock);
      const restarted = (await restart).body as { ok: boolean; error?: string };
      assert.equal(restarted.ok, true, `the restart: ${JSON.stringify(restarted)}`);
      assert.equal(r.body.ok, true, JSON.stringify(r.body));
      masters.add(Number(r.body.pid));
    } finally {
      fs.rmSync(delay, { force: true });
    }
    assert.deepEqual(await a.exited, { code: 0, signal: null });
  });

  test('a new master that exits before it connects: the old one stops as fast as without the handoff', async () => {
    // The new master (the same command line) reads its config file again and exits 1 on it,
    // before it ever connects; the old master's accept must not outlive the handoff (it held
    // the old master's stop for readyTimeout).
    const dir = fs.mkdtempSync(path.join(tmp, 'exits-'));
    const sock = path.join(dir, 'c.sock');
    const app = path.join(dir, 'server.cjs');
    fs.writeFileSync(
      app,
      "const s = require('node:http').createServer((q, r) => r.end('ok')).listen(0, () => console.log('listening'));\n" +
        "process.on('SIGTERM', () => s.close());\n",
    );
    const master = node(CLI, ['run', '--ready-timeout', '20000', '--ipc-path', sock, app]);
    await master.until(() => master.lines.includes('listening'), 10_000, 'the worker listening');
    fs.writeFileSync(path.join(dir, 'overseer.config.json'), '{"wrokers": 2}', { mode: 0o600 });
    const t0 = performance.now();
    const r = await reexec(sock);
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'ERR_OVERSEER_HANDOFF');
    assert.match(String(r.body.error), /the new master exited \(code 1\) before it was ready/);
    assert.ok(performance.now() - t0 < 10_000, 'the failure is known when the new master exits');
    assert.equal((await status(sock)).pid, master.pid, 'the old master still answers');
    const stopped = performance.now();
    master.child.kill('SIGTERM');
    const exit = await master.exited;
    const stopMs = performance.now() - stopped;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(stopMs < 5_000, `the stop took ${Math.round(stopMs)} ms (readyTimeout is 20000)`);
  });

  test("overseer run: the app's routed sockets move to the new master", async () => {
    const sock = socketPath();
    const appSock = path.join(tmp, 'app.sock');
    const master = node(CLI, ['run', '-w', '2', '--ipc-path', sock, fixture('run/app.cjs')], {
      env: { PORT: '0', SOCK: appSock },
    });
    await master.until(
      () => master.lines.filter((l) => /listening on/.test(l)).length >= 2,
      10_000,
      'two workers listening',
    );
    const load = startLoad({ socketPath: appSock, concurrency: 4, keepAlive: true, maxMs: 60_000 });
    await sleep(200);
    for (let i = 0; i < 2; i++) {
      const r = await reexec(sock);
      assert.equal(r.body.ok, true, JSON.stringify(r.body));
      masters.add(Number(r.body.pid));
      await sleep(300);
    }
    const result = await load.stop();
    assert.equal(result.failed, 0, describeErrors(result));
    assert.ok(fs.existsSync(appSock), "the app's socket file stayed");
    const s = await status(sock);
    assert.deepEqual(s.addresses, [`unix:${appSock}`]);
  });
});
