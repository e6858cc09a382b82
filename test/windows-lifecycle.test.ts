// The lifecycle on Windows (run under Wine by `npm run test:windows`): listeners reach workers
// as handles over the IPC channel, restarts come through the control pipe, old workers drain
// on the shutdown message, and a script upgrade swaps by rename. Windows only.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { type NativeBinding, native } from '../src/os/native.js';
import { AppProcess, assertAddressInUseRefused } from './support/app.js';
import { describeErrors, startLoad } from './support/load.js';
import { stopAll, waitGone } from './support/process.js';
import { leftovers, versionSource, writeVersion } from './support/versioned-app.js';

const skip = process.platform === 'win32' ? false : 'Windows only (the Linux suite covers POSIX)';
after(stopAll);

async function started(app: AppProcess): Promise<{ port: number; ipc: string }> {
  const port = await app.port();
  await app.nth('ready', 1, 60_000);
  const ipc = String((await app.nth('ipc', 1)).path);
  return { port, ipc };
}

describe('Windows lifecycle', { skip }, () => {
  test('restarts under load through the control pipe drop no request', async () => {
    const app = new AppProcess({ overseer: { address: '127.0.0.1:0' } });
    const { port, ipc } = await started(app);
    assert.ok(ipc.startsWith('\\\\.\\pipe\\overseer-') && ipc.endsWith(`-${app.name}`), ipc);
    const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 120_000 });
    for (let i = 0; i < 5; i++) {
      const r = await ipcRequest(ipc, 'POST', '/overseer/restart', 60_000);
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    await sleep(500);
    const result = await load.stop();
    console.log(`windows restarts: ${result.ok} ok, ${result.failed} failed, ${result.pids.size} pids`);
    assert.equal(result.failed, 0, describeErrors(result));
    assert.ok(result.pids.size > 1);
    // The old workers drained on the shutdown message and exited cleanly, not by TerminateProcess.
    await app.until(() => app.count('exit') >= 5, 30_000, 'old workers exit');
    for (const e of app.events.filter((x) => x.event === 'exit')) {
      assert.equal(e.code, 0, JSON.stringify(e));
      assert.equal(e.expected, true);
    }
  });

  test('the control pipe serves the API and carries the default DACL', async () => {
    const app = new AppProcess({ overseer: { address: '127.0.0.1:0' } });
    const { ipc } = await started(app);
    const status = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as {
      pid: number;
      ipcPath: string;
    };
    assert.equal(status.pid, app.pid);
    assert.equal(status.ipcPath, ipc);
    const n = native() as Required<NativeBinding>;
    assert.equal(n.pipeSecurity(ipc), n.defaultPipeSddl());
    const missing = await ipcRequest(ipc, 'GET', '/overseer/nope');
    assert.equal(missing.status, 404);
  });

  test("a port in use is the master's error, not its workers'", async () => {
    const a = new AppProcess({ overseer: { address: '127.0.0.1:0' } });
    const { port } = await started(a);
    await assertAddressInUseRefused(`127.0.0.1:${port}`);
  });

  test('workers exit when the master dies', async () => {
    const app = new AppProcess({ overseer: { address: '127.0.0.1:0', workers: 2 } });
    await started(app);
    await app.nth('ready', 2, 60_000);
    const pids = app.events.filter((e) => e.event === 'fork').map((e) => Number(e.pid));
    app.child.kill(); // TerminateProcess: no chance to clean up
    await app.exited;
    await waitGone(pids, 10_000);
  });

  test('a script upgrade swaps binPath by rename', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-win-upgrade-'));
    const bin = path.join(dir, 'app.mjs');
    const next = path.join(dir, 'incoming.mjs');
    const fetcher = `new FileFetcher({ path: ${JSON.stringify(next)}, interval: 200 })`;
    writeVersion(bin, { version: 'v1', fetcher });
    const app = new AppProcess({}, { script: bin });
    const { port } = await started(app);
    const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 120_000 });
    const v2 = versionSource({ version: 'v2', fetcher });
    fs.writeFileSync(`${next}.tmp`, v2);
    fs.renameSync(`${next}.tmp`, next);
    const up = await app.nth('upgrade', 1, 60_000);
    const result = await load.stop();
    assert.equal(up.result, 'upgraded', JSON.stringify(up));
    assert.equal(result.failed, 0, describeErrors(result));
    assert.equal(fs.readFileSync(bin, 'utf8'), v2);
    assert.deepEqual(leftovers(dir), []);
  });
});

describe('Windows .exe swap', { skip }, () => {
  test('a running .exe is renamed aside, replaced, and the leftover cleaned up on the next start', async () => {
    const { windows } = await import('../src/os/windows.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-win-exe-'));
    const exe = path.join(dir, 'app.exe');
    fs.copyFileSync(process.execPath, exe);
    // The old version runs while it is replaced, as a single-executable app's master does.
    const { spawn } = await import('node:child_process');
    const running = spawn(exe, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    await new Promise((r) => running.once('spawn', r));
    try {
      const staged = path.join(dir, '.app.overseer-new-1234.exe');
      fs.writeFileSync(staged, 'new version');
      windows.replaceFile(staged, exe, true);
      assert.equal(fs.readFileSync(exe, 'utf8'), 'new version');
      assert.ok(fs.existsSync(`${exe}.old`), 'the running version was moved aside');
      assert.equal(fs.existsSync(staged), false);
    } finally {
      running.kill();
      await new Promise((r) => running.once('exit', r));
    }
    windows.cleanupAfterUpgrade(exe);
    assert.equal(fs.existsSync(`${exe}.old`), false);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
