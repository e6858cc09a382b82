// Two apps on one machine, started from their own folders with `overseer run` (issue #23): every
// command typed in one folder acts on that app, every command with a name on the named one, and
// each says which; the socket paths stay across restarts and a master handoff; a second master of
// a name refuses to start and names the first's pid; a killed master's socket is taken over; the
// CPU and memory of each worker are in the status, `ls` and the metrics.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { NamedApps } from './support/named-apps.js';
import { CLI } from './support/paths.js';
import { node, signalAll, stopAll, type TestProcess } from './support/process.js';

type Json = Record<string, unknown>;
const skip = process.platform !== 'linux' && 'procfs, and unix sockets';

describe('two named apps', { skip }, () => {
  const apps = new NamedApps();
  /** Masters no TestProcess knows: a handoff's new masters. */
  const adopted: number[] = [];
  let a: string;
  let b: string;
  let alpha: TestProcess;
  let beta: TestProcess;

  before(async () => {
    a = apps.app('shop-a', 'alpha');
    b = apps.app('shop-b', '@acme/beta');
    alpha = apps.start(a, ['-w', '2']);
    beta = apps.start(b);
    await Promise.all([apps.status('alpha'), apps.status('acme-beta')]);
  });
  after(async () => {
    signalAll(adopted, 'SIGTERM');
    await stopAll();
    apps.cleanup();
  });

  test('in its folder (or below) a command acts on that app; with a name, on the named one; each says which', () => {
    fs.mkdirSync(path.join(a, 'src', 'routes'), { recursive: true });
    for (const [cwd, name, pid, dir] of [
      [a, 'alpha', alpha.pid, a],
      [path.join(a, 'src', 'routes'), 'alpha', alpha.pid, a],
      [b, 'acme-beta', beta.pid, b],
    ] as const) {
      const s = JSON.parse(apps.cli(cwd, ['status', '--json']).stdout) as Json;
      assert.deepEqual([s.name, s.pid, s.appDir], [name, pid, dir], `status in ${cwd}`);
      const r = apps.cli(cwd, ['restart']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`^restarted in \\d+ ms \\(${name}, pid ${pid}\\)\\n$`),
        `restart in ${cwd}`,
      );
    }
    // A name wins over the folder.
    const other = apps.cli(a, ['restart', 'acme-beta']);
    assert.match(other.stdout, new RegExp(`^restarted in \\d+ ms \\(acme-beta, pid ${beta.pid}\\)`));
    const update = apps.cli(b, ['trigger-update', 'alpha']);
    assert.equal(update.code, 1);
    assert.equal(update.stdout, '');
    assert.match(
      update.stderr,
      new RegExp(
        `^trigger-update failed \\(alpha, pid ${alpha.pid}\\): .*no fetcher is configured \\(ERR_OVERSEER_NO_FETCHER\\)\n$`,
      ),
    );
    // In a folder of neither, with two running: no guess, the list to choose from.
    const neither = apps.cli(apps.root, ['restart']);
    assert.equal(neither.code, 1);
    assert.match(
      neither.stderr,
      /^overseer: 2 masters are running, and none has its app in .*; name one \(ERR_OVERSEER_NO_MASTER\):\n/,
    );
    assert.match(neither.stderr, new RegExp(`^ {2}acme-beta +pid ${beta.pid} +${b}$`, 'm'));
    assert.match(neither.stderr, new RegExp(`^ {2}alpha +pid ${alpha.pid} +${a}$`, 'm'));
    const unknown = apps.cli(a, ['status', 'gamma']);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      "overseer: no master named 'gamma' is running (see `overseer ls`) (ERR_OVERSEER_NO_MASTER)\n",
    );
    assert.equal(apps.cli(a, ['status', '../alpha']).code, 2, 'a name is no path');
    // Log lines with the name, when asked.
    const logs = apps.cli(apps.root, ['logs', '-n', '3', '--prefix', 'alpha']);
    assert.match(logs.stdout, /^\[alpha\] (listening on|tick from) /m);
  });

  test("CPU and memory per worker: in the status, ls's totals and the metrics", async () => {
    const s = await apps.status('alpha');
    const workers = s.workers as Json[];
    assert.equal(workers.length, 2);
    for (const p of [s, ...workers]) {
      assert.equal(typeof p.cpuPercent, 'number');
      assert.ok((p.cpuSeconds as number) > 0, JSON.stringify(p));
      assert.ok((p.rssBytes as number) > 10 * 2 ** 20, JSON.stringify(p));
    }
    const ls = apps.cli(apps.root, ['ls']);
    assert.match(ls.stdout, /^NAME\s+PID\s+UP\s+WORKERS\s+CPU\s+MEM\s+RESTARTS\s+APP\s+SOCKET$/m);
    assert.match(
      ls.stdout,
      new RegExp(`^alpha\\s+${alpha.pid}\\s+\\S+\\s+2\\s+\\d+\\.\\d%\\s+\\d+\\.\\dM\\s+\\d+\\s+${a}\\s`, 'm'),
    );
    assert.match(ls.stdout, new RegExp(`^acme-beta\\s+${beta.pid}\\s+\\S+\\s+1\\s+\\d+\\.\\d%`, 'm'));
    const text = apps.cli(a, ['status']).stdout;
    assert.match(text, /^WORKER\s+PID\s+SLOT\s+STATE\s+UP\s+CPU\s+MEM\s+RESTARTS$/m);
    assert.match(text, /^\d+\s+\d+\s+[01]\s+ready\s+\S+\s+\d+\.\d%\s+\d+\.\dM\s+\d+$/m);
    const metrics = await ipcRequest(String(s.ipcPath), 'GET', '/overseer/metrics');
    const body = String(metrics.body);
    assert.match(body, /^overseer_cpu_seconds_total\{name="alpha",process="master"\} [\d.]+$/m);
    assert.match(
      body,
      /^overseer_resident_memory_bytes\{name="alpha",process="worker",worker="\d+",slot="1"\} \d+$/m,
    );
  });

  test('the socket paths stay the same across a restart and a master handoff (reexec)', async () => {
    const path0 = path.join(apps.socketDir, 'alpha.sock');
    assert.equal((await apps.status('alpha')).ipcPath, path0);
    assert.equal(apps.cli(a, ['restart']).code, 0);
    assert.equal((await apps.status('alpha')).ipcPath, path0);
    const r = apps.cli(a, ['reexec']);
    assert.equal(r.code, 0, r.stderr);
    const m = /^a new master \(pid (\d+)\) took over in \d+ ms \(alpha, pid (\d+)\)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    assert.equal(Number(m[2]), alpha.pid);
    adopted.push(Number(m[1]));
    await alpha.waitExit(30_000);
    const after = await apps.status('alpha');
    assert.deepEqual([after.pid, after.ipcPath, after.name], [Number(m[1]), path0, 'alpha']);
    assert.equal(
      JSON.parse(apps.cli(a, ['status', '--json']).stdout).pid,
      Number(m[1]),
      'its folder finds it',
    );
  });

  test("a second master of a name refuses to start, and names the first's pid; another name starts", async () => {
    const first = (await apps.status('acme-beta')).pid;
    const again = apps.start(b);
    const exit = await again.waitExit(20_000);
    assert.equal(exit.code, 1);
    assert.match(
      again.stderr.join('\n'),
      new RegExp(
        `a master named 'acme-beta' is already running \\(pid ${first}, at .*acme-beta\\.sock\\).* \\(ERR_OVERSEER_NAME_IN_USE\\)$`,
        'm',
      ),
    );
    assert.ok(!again.lines.some((l) => l.startsWith('listening on')), 'no worker started');
    // Its error is all it says: no "the master is pid …" for a master that never ran.
    assert.deepEqual(
      again.stderr.filter((l) => l.trim() !== ''),
      [again.stderr.find((l) => l.includes('is already running'))],
    );
    const named = apps.start(b, ['--name', 'beta-2']);
    const s = await apps.status('beta-2');
    assert.equal(s.appDir, b);
    // Two masters of one folder: a command typed there asks which.
    const there = apps.cli(b, ['status']);
    assert.equal(there.code, 1);
    assert.match(
      there.stderr,
      new RegExp(`^overseer: 2 masters have their app in ${b}; name one \\(ERR_OVERSEER_NO_MASTER\\):`),
    );
    await named.stop();
  });

  test('run(): the same refusal is a coded error with the pid', async () => {
    const one = new AppProcess({ overseer: { address: '127.0.0.1:0', name: 'twin' } }, { env: apps.env });
    await one.nth('ready', 1);
    const two = new AppProcess({ overseer: { address: '127.0.0.1:0', name: 'twin' } }, { env: apps.env });
    assert.notEqual((await two.exited).code, 0);
    await two.until(() => two.stderr.some((l) => l.includes("code: 'ERR_OVERSEER_NAME_IN_USE'")), 5_000);
    assert.ok(
      two.stderr.some((l) => l.includes(`pid: ${one.pid}`)),
      two.stderr.join('\n'),
    );
    assert.equal(two.count('fork'), 0);
    await one.stop();
  });

  test("a killed master's socket is taken over by the next master of its name, at the same path", async () => {
    const path0 = path.join(apps.socketDir, 'acme-beta.sock');
    beta.kill();
    await beta.waitExit();
    assert.ok(fs.lstatSync(path0).isSocket(), 'the killed master left its socket behind');
    const next = apps.start(b);
    const s = await apps.status('acme-beta');
    assert.deepEqual([s.pid, s.ipcPath], [next.pid, path0]);
    assert.deepEqual(
      fs.readdirSync(apps.socketDir).filter((f) => f.endsWith('.lock')),
      [],
      'no lock is left',
    );
  });
});

test('a runtime directory others can write to is refused: the master runs on without a control socket, and the CLI says why', {
  skip: process.platform === 'win32' && 'POSIX directories',
}, async () => {
  const apps = new NamedApps();
  try {
    // No runtime directory: the tmpdir's overseer-<uid>, made by someone else, writable by all.
    const env = { XDG_RUNTIME_DIR: path.join(apps.root, 'none') };
    const dir = path.join(String(apps.env.TMPDIR), `overseer-${process.getuid!()}`);
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    const app = new AppProcess({ overseer: { address: '127.0.0.1:0' } }, { env: { ...apps.env, ...env } });
    const error = await app.nth('error', 1);
    assert.equal(error.code, 'ERR_OVERSEER_IPC_DIR');
    await app.nth('ready', 1);
    assert.ok(
      // The warning says why with the refusal's code.
      app.stderr.some((l) => l.includes('OVERSEER_IPC_DISABLED') && l.includes('(ERR_OVERSEER_IPC_DIR)')),
      app.stderr.join('\n'),
    );
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing was put there');
    const ls = apps.cli(apps.root, ['ls']);
    assert.equal(ls.code, 1);
    assert.match(
      ls.stderr,
      /overseer-\d+ is writable by others \(mode 777\); control sockets need a directory only this user can use/,
    );
  } finally {
    await stopAll(); // a failed assertion must not leave the master running (the file would wait on it)
    apps.cleanup();
  }
});

test('`top` by socket: a master started with its own --ipc-path is shown by --socket or OVERSEER_IPC_PATH, alone', {
  skip,
}, async () => {
  const apps = new NamedApps();
  try {
    const named = apps.start(apps.app('named', 'named'));
    const ownDir = apps.app('own', 'own');
    const sock = path.join(apps.root, 'own.sock');
    const own = apps.start(ownDir, ['--ipc-path', sock]);
    await apps.status('named');
    await own.until(
      () => fs.existsSync(sock) && own.lines.some((l) => l.startsWith('listening on')),
      20_000,
      'own listening',
    );
    const line = (pid: number) => new RegExp(`^\\S+  pid ${pid}  `, 'm');
    const all = apps.cli(apps.root, ['top', '--once']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, line(named.pid));
    assert.doesNotMatch(all.stdout, line(own.pid), 'a master with its own socket is not among the named');
    for (const [args, env] of [
      [['top', '--once', '--socket', sock], {}],
      [['top', '--once'], { OVERSEER_IPC_PATH: sock }],
    ] as const) {
      const r = apps.cli(apps.root, [...args], env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, line(own.pid), `${args.join(' ')}:\n${r.stdout}`);
      assert.doesNotMatch(r.stdout, line(named.pid), `${args.join(' ')} shows only that master`);
    }
    // A name comes first, as for every other command.
    const byName = apps.cli(apps.root, ['top', '--once', 'named'], { OVERSEER_IPC_PATH: sock });
    assert.match(byName.stdout, line(named.pid));
    assert.doesNotMatch(byName.stdout, line(own.pid));
    const none = apps.cli(apps.root, ['top', '--once', '--socket', path.join(apps.root, 'nothing.sock')]);
    assert.equal(none.code, 1);
    assert.match(none.stdout, /no master answers at .*nothing\.sock/);
  } finally {
    await stopAll();
    apps.cleanup();
  }
});

describe('a master that is there and does not answer (busy, stopped)', { skip }, () => {
  const apps = new NamedApps();
  let dir: string;
  let one: TestProcess;
  let two: TestProcess;
  /** `overseer events` readers holding every one of one's 64 connections. */
  let readers: net.Socket[] = [];

  before(async () => {
    // Two masters of one folder: without a name, neither may be passed over for the other.
    dir = apps.app('shared', 'shared');
    one = apps.start(dir, ['--name', 'one']);
    two = apps.start(dir, ['--name', 'two']);
    await Promise.all([apps.status('one'), apps.status('two')]);
  });
  after(async () => {
    for (const s of readers) s.destroy();
    await stopAll();
    apps.cleanup();
  });

  /**
   * Holds 64 connections of one's, as 64 `overseer events` would: each counts once its stream
   * began (a 200), since connections of a previous test may still hold slots for a moment
   * (bounded); then one's answer is 503.
   */
  async function makeBusy(): Promise<void> {
    const socket = path.join(apps.socketDir, 'one.sock');
    const reader = async (): Promise<net.Socket | undefined> => {
      const s = net.connect(socket);
      s.on('error', () => {});
      s.write('GET /overseer/events HTTP/1.1\r\nHost: overseer\r\n\r\n');
      const head = await new Promise<string>((resolve) => {
        s.once('data', (chunk) => resolve(String(chunk)));
        s.once('close', () => resolve(''));
      });
      s.resume();
      if (head.startsWith('HTTP/1.1 200')) return s;
      s.destroy();
      return undefined;
    };
    const deadline = Date.now() + 20_000;
    while (readers.length < 64) {
      const got = await Promise.all(Array.from({ length: 64 - readers.length }, reader));
      readers.push(...got.filter((s) => s !== undefined));
      assert.ok(Date.now() < deadline, `one held only ${readers.length} readers`);
      if (readers.length < 64) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const r = await ipcRequest(socket, 'GET', '/overseer/status', 5_000);
    assert.equal(r.status, 503, 'one is busy');
  }

  function letGo(): void {
    for (const s of readers) s.destroy();
    readers = [];
  }

  test('busy: by name it says busy with the code, ls counts it, and no name picks neither', async () => {
    await makeBusy();
    try {
      for (const command of ['status', 'restart']) {
        const r = apps.cli(apps.root, [command, 'one']);
        assert.equal(r.code, 1, `${command}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /^overseer: .*busy.* \(ERR_OVERSEER_BUSY\)\n$/, command);
      }
      const ls = apps.cli(apps.root, ['ls']);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /^one\s.*busy \(ERR_OVERSEER_BUSY\)\s+\S*one\.sock$/m, ls.stdout);
      assert.match(ls.stdout, new RegExp(`^two\\s+${two.pid}\\s`, 'm'), ls.stdout);
      const json = JSON.parse(apps.cli(apps.root, ['ls', '--json']).stdout) as Json[];
      assert.deepEqual(
        json.map((m) => [path.basename(String(m.socket)), (m.error as Json | undefined)?.code]).sort(),
        [
          ['one.sock', 'ERR_OVERSEER_BUSY'],
          ['two.sock', undefined],
        ],
      );
      // In their folder, with no name: one that did not answer may be the one meant.
      const here = apps.cli(dir, ['status']);
      assert.equal(here.code, 1, here.stdout);
      assert.match(
        here.stderr,
        /^overseer: 2 masters could be meant .*; name one \(ERR_OVERSEER_NO_MASTER\):\n/,
      );
      assert.match(here.stderr, /^ {2}one +busy \(ERR_OVERSEER_BUSY\) +\S*one\.sock$/m);
      assert.match(here.stderr, new RegExp(`^ {2}two +pid ${two.pid} +${dir}$`, 'm'));
    } finally {
      letGo();
    }
  });

  test("busy, by --socket: the master's answer ends with its code", async () => {
    await makeBusy();
    try {
      const r = apps.cli(apps.root, ['status', '--socket', path.join(apps.socketDir, 'one.sock')]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, /^overseer: .*the control socket is busy .* \(ERR_OVERSEER_BUSY\)\n$/);
    } finally {
      letGo();
    }
  });

  test('stopped (SIGSTOP): by name, commands give up after --timeout with ETIMEDOUT, not "no master"', () => {
    process.kill(one.pid, 'SIGSTOP');
    try {
      for (const command of ['status', 'restart']) {
        const r = apps.cli(apps.root, [command, 'one', '-t', '1500']);
        assert.equal(r.code, 1, `${command}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stderr,
          /^overseer: cannot reach the master at \S*one\.sock: no answer within 1500 ms \(ETIMEDOUT\)\n$/,
          command,
        );
      }
      const ls = apps.cli(apps.root, ['ls', '-t', '1500']);
      assert.match(ls.stdout, /^one\s.*no answer \(ETIMEDOUT\)\s+\S*one\.sock$/m, ls.stdout);
    } finally {
      process.kill(one.pid, 'SIGCONT');
    }
  });

  test('a stale socket file (a killed master) is still no master', async () => {
    two.kill();
    await two.waitExit();
    assert.ok(fs.lstatSync(path.join(apps.socketDir, 'two.sock')).isSocket());
    const r = apps.cli(apps.root, ['status', 'two']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "overseer: no master named 'two' is running (see `overseer ls`) (ERR_OVERSEER_NO_MASTER)\n",
    );
    const ls = apps.cli(apps.root, ['ls']);
    assert.doesNotMatch(ls.stdout, /two\.sock/);
    // The one left, in its folder, is the one meant.
    const here = JSON.parse(apps.cli(dir, ['status', '--json']).stdout) as Json;
    assert.equal(here.pid, one.pid);
  });
});

test('a name whose socket path a unix socket cannot take is refused at the start, with the path and the limit', {
  skip,
}, async () => {
  const apps = new NamedApps();
  try {
    // A runtime directory deep enough that a name of 64 (valid) puts the path past 107 bytes.
    const runtime = path.join(apps.root, 'r'.repeat(40));
    fs.mkdirSync(runtime, { mode: 0o700 });
    const env = { ...apps.env, XDG_RUNTIME_DIR: runtime };
    const name = 'n'.repeat(64);
    const sock = path.join(runtime, 'overseer', `${name}.sock`);
    assert.ok(Buffer.byteLength(sock) > 107, sock);
    const app = node(CLI, ['run', '--name', name, 'server.cjs'], {
      cwd: apps.app('long', 'long'),
      env,
      label: 'long',
    });
    const exit = await app.waitExit(20_000);
    assert.equal(exit.code, 1, app.stderr.join('\n'));
    const text = app.stderr.join('\n');
    assert.ok(text.includes(sock), text);
    assert.match(text, /107 .*\(ERR_OVERSEER_INVALID_CONFIG\)$/m);
    assert.ok(!app.lines.some((l) => l.startsWith('listening on')), 'no worker started');
  } finally {
    await stopAll();
    apps.cleanup();
  }
});
