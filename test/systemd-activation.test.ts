// systemd's socket activation, with systemd-socket-activate (Debian's systemd package): the
// master adopts the sockets it was passed (in order, by name) instead of binding, restarts on
// them under load with 0 failed requests, and no worker sees LISTEN_*. `overseer run` serves an
// app's own listen() from systemd's socket of the same port.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { freePort, get } from './support/http.js';
import { answeredBy, describeErrors, startLoad } from './support/load.js';
import { CLI, fixture, repoPath } from './support/paths.js';
import { signalAll, stopAll, TestProcess } from './support/process.js';
import { unitFile } from './support/unit-file.js';

function activator(): string | undefined {
  try {
    execFileSync('systemd-socket-activate', ['--version'], { stdio: 'ignore' });
    return 'systemd-socket-activate';
  } catch {
    return undefined;
  }
}
const ACTIVATE = activator();
const skip = ACTIVATE === undefined ? "no systemd-socket-activate (Debian's systemd package)" : false;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-activation-'));
/** Masters started by a handoff (not by this test, so not known to stopAll()). */
const handedTo = new Set<number>();
after(async () => {
  await stopAll();
  signalAll(handedTo, 'SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Until systemd-socket-activate listens on `port` (a connection there also starts the master). */
async function activatorListens(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(25);
  }
  throw new Error(`nothing listens on ${port}`);
}

/**
 * A master under systemd-socket-activate, which execs it at the first connection, with an
 * environment of its own (as systemd gives): only what --setenv passes.
 */
function activated(config: object, listens: { port: number; name: string }[], stateDir?: string): AppProcess {
  const launcher = [ACTIVATE!, '--setenv=APP', ...listens.map((l) => `--listen=127.0.0.1:${l.port}`)];
  launcher.push(`--fdname=${listens.map((l) => l.name).join(':')}`);
  return new AppProcess({ overseer: config, ...(stateDir ? { stateDir } : {}) }, { launcher });
}

describe('systemd socket activation', { skip }, () => {
  test("'systemd:web' adopts that socket: 3 restarts under load, 0 failed, and no worker sees LISTEN_*", async () => {
    const web = await freePort();
    const admin = await freePort();
    const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
    const a = activated(
      { address: 'systemd:web' },
      [
        { port: admin, name: 'admin' },
        { port: web, name: 'web' },
      ],
      stateDir,
    );
    // The first connection starts the master; it waits in the kernel's queue meanwhile.
    await activatorListens(web);
    const load = startLoad({ port: web, concurrency: 8, keepAlive: true, maxMs: 60_000 });
    const listening = await a.nth('listening', 1, 20_000);
    assert.deepEqual(listening.addresses, [`127.0.0.1:${web}`]);
    await a.nth('ready', 1, 20_000);
    for (let i = 0; i < 3; i++) {
      const r = await a.restart();
      assert.equal(r.ok, true, JSON.stringify(r));
    }
    await sleep(300);
    await answeredBy(load.pids, 4);
    const result = await load.stop();
    assert.equal(result.failed, 0, describeErrors(result));
    assert.ok(result.pids.size >= 4, `answers from ${result.pids.size} pids`);
    const worker = JSON.parse(fs.readFileSync(path.join(stateDir, 'worker-4.json'), 'utf8')) as {
      env: Record<string, string>;
      addresses: string[];
    };
    assert.deepEqual(
      Object.keys(worker.env).filter((k) => k.startsWith('LISTEN_')),
      [],
      'LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are gone',
    );
    assert.deepEqual(worker.addresses, [`127.0.0.1:${web}`]);
  });

  test('with no address, every socket systemd passed, in order', async () => {
    const one = await freePort();
    const two = await freePort();
    const a = activated({}, [
      { port: one, name: 'one' },
      { port: two, name: 'two' },
    ]);
    await activatorListens(one);
    const first = get(one, { timeoutMs: 20_000 }); // the program serves its first
    const listening = await a.nth('listening', 1, 20_000);
    assert.deepEqual(listening.addresses, [`127.0.0.1:${one}`, `127.0.0.1:${two}`]);
    assert.equal((await first).status, 200);
  });

  test("a 'systemd:' name systemd did not pass is a coded error, and the master stops", async () => {
    const port = await freePort();
    const a = activated({ address: 'systemd:nope' }, [{ port, name: 'web' }]);
    await activatorListens(port);
    const { code } = await a.exited;
    assert.notEqual(code, 0);
    assert.match(a.stderr.join('\n'), /ERR_OVERSEER_NO_SYSTEMD_SOCKET|systemd passed no socket named 'nope'/);
  });

  test("overseer run: the app's own listen(port) is served from systemd's socket, across restarts", async () => {
    const port = await freePort();
    const sock = path.join(tmp, 'run.sock');
    const master = new TestProcess(
      ACTIVATE!,
      [
        `--listen=127.0.0.1:${port}`,
        '--setenv=PORT',
        process.execPath,
        CLI,
        'run',
        '--ipc-path',
        sock,
        fixture('run/app.cjs'),
      ],
      { env: { PORT: String(port) } },
    );
    try {
      await activatorListens(port);
      const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 60_000 });
      await master.line(/listening on/, 0, 20_000);
      for (let i = 0; i < 2; i++) {
        const r = await ipcRequest(sock, 'POST', '/overseer/restart', 30_000);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      await sleep(300);
      await answeredBy(load.pids, 3);
      const result = await load.stop();
      assert.equal(result.failed, 0, describeErrors(result));
      assert.ok(result.pids.size >= 3);
      const status = (await ipcRequest(sock, 'GET', '/overseer/status')).body as { addresses: string[] };
      assert.deepEqual(status.addresses, [`127.0.0.1:${port}`]);
    } finally {
      await master.stop();
    }
  });

  test('examples/systemd: the units parse, and their own commands run the app on the socket: 2 reexecs and a reload under load, 0 failed', async () => {
    const dir = repoPath('examples/systemd/');
    const socket = unitFile(path.join(dir, 'app.socket')).get('Socket')!;
    assert.equal(socket.get('FileDescriptorName'), 'web');
    assert.equal(socket.get('Service'), 'app.service');
    const service = unitFile(path.join(dir, 'app.service')).get('Service')!;
    assert.equal(service.get('Type'), 'notify');
    assert.equal(service.get('NotifyAccess'), 'all', "a new master's READY=1 and MAINPID= are heard");
    assert.equal(service.get('KillMode'), 'mixed');
    const reload = unitFile(path.join(dir, 'app-reload.service')).get('Service')!;
    assert.equal(reload.get('Type'), 'notify-reload');
    assert.equal(reload.get('ReloadSignal'), 'SIGUSR2', "SIGHUP, systemd's default, would stop the master");

    // ExecStart and ExecReload as they are, with this machine's paths for /srv/app and /run/app.
    const runDir = repoPath('examples/run/');
    const ctl = path.join(tmp, 'unit.sock');
    const command = (line: string): string[] => {
      const [bin, ...args] = line
        .replaceAll('/run/app/overseer.sock', ctl)
        .replace('server.js', 'server.cjs')
        .split(' ');
      assert.match(bin!, /\/node_modules\/\.bin\/overseer$/);
      return [CLI, ...args];
    };
    const port = await freePort();
    assert.equal(socket.get('ListenStream'), '3000');
    const master = new TestProcess(
      ACTIVATE!,
      [
        `--listen=127.0.0.1:${port}`,
        '--fdname=web',
        '--setenv=PORT',
        process.execPath,
        ...command(service.get('ExecStart')!),
      ],
      { cwd: runDir, env: { PORT: String(port) } },
    );
    const listening = (): number => master.lines.filter((l) => /listening on/.test(l)).length;
    const pids = new Set<number>([master.pid]);
    try {
      await activatorListens(port);
      const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 60_000 });
      await master.until(() => listening() >= 2, 20_000, 'two workers listening');
      for (let i = 0; i < 2; i++) {
        const r = spawnSync(process.execPath, command(service.get('ExecReload')!), {
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const pid = /pid (\d+)/.exec(r.stdout)?.[1];
        assert.ok(pid, `no new master's pid in: ${r.stdout}`);
        pids.add(Number(pid));
        handedTo.add(Number(pid));
        await sleep(300);
      }
      const current = ((await ipcRequest(ctl, 'GET', '/overseer/status')).body as { pid: number }).pid;
      const before = listening();
      process.kill(current, 'SIGUSR2'); // app-reload.service's ReloadSignal
      // The reload's two new workers (their output comes through the first master's stdout).
      await master.until(() => listening() >= before + 2, 10_000, 'the reload');
      await sleep(300);
      const result = await load.stop();
      assert.equal(result.failed, 0, describeErrors(result));
      assert.ok(result.ok > 100, `too little load got through (${result.ok})`);
      assert.equal(pids.size, 3, 'two new masters took over');
      process.kill(current, 'SIGTERM');
    } finally {
      await master.stop();
    }
  });
});
