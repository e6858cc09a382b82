// `overseer run` as a user meets it: what they type (a bin name, `--` before the app's own
// arguments), the pid it prints (the master's, whatever started it: npx, npm, a shell), and
// how it ends: 0 for a stop whatever status the drained app ends with (Hono has no SIGTERM
// handler: 143), non-zero with a reason for a real failure (a worker killed at the stop, an
// app that never starts), and workers that exit normally, their `exit` handlers run, when
// their master dies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { GIVE_UP_AFTER } from '../src/master/supervisor.js';
import { get } from './support/http.js';
import { CLI, fixture } from './support/paths.js';
import {
  childrenOf,
  exitedNormally,
  node,
  processAlive,
  signalAll,
  stopAll,
  TestProcess,
} from './support/process.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-run-stops-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let sockets = 0;

/** `overseer run <args>` with its control socket in tmp. */
function overseerRun(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): TestProcess & { socket: string } {
  const socket = path.join(tmp, `c${++sockets}.sock`);
  const p = node(CLI, ['run', '--ipc-path', socket, ...args], {
    cwd: opts.cwd ?? tmp,
    env: { PORT: '0', ...opts.env },
    label: 'overseer run',
  });
  return Object.assign(p, { socket });
}

async function status(socket: string): Promise<Record<string, unknown>> {
  for (let i = 0; ; i++) {
    try {
      return (await ipcRequest(socket, 'GET', '/overseer/status', 5_000)).body as Record<string, unknown>;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(50);
    }
  }
}

/** Waits for `n` ready workers; resolves with their pids. */
async function readyWorkers(socket: string, n: number): Promise<number[]> {
  for (let i = 0; i < 400; i++) {
    const workers = (await status(socket)).workers as { state: string; pid: number }[];
    const ready = workers.filter((w) => w.state === 'ready');
    if (ready.length >= n) return ready.map((w) => w.pid);
    await sleep(50);
  }
  throw new Error(`not ${n} ready workers`);
}

/** The port of the app's first `listening on 127.0.0.1:PORT` line. */
async function port(p: TestProcess): Promise<number> {
  return Number((await p.line(/listening on 127\.0\.0\.1:(\d+)/))[1]);
}

/** Its stderr, once it has all arrived. */
async function stderrOf(p: TestProcess): Promise<string> {
  await p.until(() => p.ended, 5_000, 'the end of its output');
  return p.stderr.join('\n');
}

describe('a stop exits 0 whatever the drained app ends with; a real failure is non-zero and says why', () => {
  test('Hono, unmodified, no SIGTERM handler, 2 workers: SIGTERM, the master exits 0', async () => {
    const r = overseerRun(['-w', '2', fixture('run/hono.mjs')]);
    const p = await port(r);
    await readyWorkers(r.socket, 2);
    assert.match((await get(p)).body, /^hono \d+/);
    r.signal('SIGTERM');
    const { code, signal } = await r.waitExit(15_000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, await stderrOf(r));
    assert.doesNotMatch(await stderrOf(r), /OVERSEER_EXIT_FAILURE/);
  });

  test('an app that ignores SIGTERM is killed at --terminate-timeout: the master exits 1, saying so', async () => {
    const r = overseerRun(['--terminate-timeout', '500', fixture('run/app.cjs')], {
      env: { IGNORE_TERM: '1' },
    });
    await port(r);
    const [pid] = await readyWorkers(r.socket, 1);
    r.signal('SIGTERM');
    assert.equal((await r.waitExit(10_000)).code, 1);
    assert.match(
      await stderrOf(r),
      new RegExp(`OVERSEER_EXIT_FAILURE.*the master exits with 1: worker 1 \\(pid ${pid}\\) was SIGKILLed`),
    );
  });
});

test('during a stop, a new connection is refused once the worker stopped accepting, as after a plain close()', async () => {
  // A request in flight holds the drain (and the master) for 20 s.
  const r = overseerRun(['--terminate-timeout', '30000', fixture('run/app.cjs')], {
    env: { SLOW_MS: '20000' },
  });
  const p = await port(r);
  await readyWorkers(r.socket, 1);
  const slow = get(p, '/slow').catch((err: Error) => err);
  await sleep(200); // it has arrived
  r.signal('SIGTERM');
  // The master's copy of the socket must not keep it listening for no one: without overseer
  // the refusal comes as soon as server.close() does; here once the drain has begun.
  let last = '';
  for (let i = 0; i < 40 && last !== 'ECONNREFUSED'; i++) {
    await sleep(200);
    last = await new Promise<string>((resolve) => {
      const s = net.connect(p, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve('connected, and no one would accept it');
      });
      s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
  }
  assert.equal(last, 'ECONNREFUSED');
  assert.equal(r.exit, undefined, 'the slow request still holds the master');
  r.signal('SIGTERM'); // "now"
  await r.waitExit(10_000);
  await slow;
});

describe("a worker's last lines reach the master's output before its exit counts, with a reader that lags", () => {
  // 300 lines of 1 KiB on stderr as it ends, then `<pid> goodbye`, and it exits once its own
  // stderr has taken them. The master's stderr is read only LAG_MS after that (a busy log
  // shipper, `| tee` to a slow disk): the master's writes queue, it stops reading the worker's
  // pipe meanwhile, and the worker has exited with its last lines still in that pipe.
  const env = { GOODBYE_LINES: '300' };
  const LAG_MS = 400;
  const goodbye = (r: TestProcess, pid: number) => ({
    closing: r.stderr.filter((l) => l.startsWith(`${pid} closing `)).length,
    goodbye: r.stderr.indexOf(`${pid} goodbye`),
  });
  const lagging = async (r: TestProcess, act: () => unknown): Promise<void> => {
    r.child.stderr!.pause();
    await act();
    await sleep(LAG_MS);
    r.child.stderr!.resume();
  };

  test("a stop: the master exits only once every line of its worker's shutdown is out", async () => {
    for (let round = 0; round < 2; round++) {
      const r = overseerRun([fixture('run/app.cjs')], { env });
      await port(r);
      const [pid] = await readyWorkers(r.socket, 1);
      await lagging(r, () => r.signal('SIGTERM'));
      assert.equal((await r.waitExit(15_000)).code, 0, await stderrOf(r));
      const seen = goodbye(r, pid!);
      assert.deepEqual(
        { round, closing: seen.closing, goodbye: seen.goodbye >= 0 },
        { round, closing: 300, goodbye: true },
      );
    }
  });

  test("a crash: the master's warning that the worker died comes after the worker's last line", async () => {
    const r = overseerRun([fixture('run/app.cjs')], { env });
    const p = await port(r);
    for (let round = 0; round < 2; round++) {
      const [pid] = await readyWorkers(r.socket, 1);
      await lagging(r, () => get(p, '/exit'));
      const died = new RegExp(`worker \\d+ \\(pid ${pid}\\) died \\(code 3\\)`);
      await r.until(() => r.stderr.some((l) => died.test(l)), 10_000, `the warning for pid ${pid}`);
      const warning = r.stderr.findIndex((l) => died.test(l));
      const seen = goodbye(r, pid!);
      assert.deepEqual(
        { round, closing: seen.closing, goodbyeBeforeWarning: seen.goodbye >= 0 && seen.goodbye < warning },
        { round, closing: 300, goodbyeBeforeWarning: true },
      );
    }
  });
});

test("a process of the app's that holds the worker's pipes: its exit still counts, 1 s after it", async () => {
  const r = overseerRun([fixture('run/app.cjs')], {
    env: { GOODBYE_LINES: '1', PIPE_HOLDER: path.join(tmp, 'pipe-holder') },
  });
  const p = await port(r);
  const holder = Number((await r.line(/^holder (\d+)$/))[1]);
  try {
    const [pid] = await readyWorkers(r.socket, 1);
    const asked = Date.now();
    await get(p, '/exit');
    const died = new RegExp(`worker \\d+ \\(pid ${pid}\\) died \\(code 3\\)`);
    await r.until(() => r.stderr.some((l) => died.test(l)), 10_000, `the warning for pid ${pid}`);
    const ms = Date.now() - asked;
    assert.ok(ms >= 950 && ms < 5_000, `the warning came ${ms} ms after /exit`);
    assert.ok(r.stderr.includes(`${pid} goodbye`));
  } finally {
    process.kill(holder, 'SIGKILL');
  }
});

test('the master SIGKILLed: each worker exits within 1 s, and its exit handlers run', async () => {
  const exitFile = path.join(tmp, 'exits');
  const r = overseerRun(['-w', '2', fixture('run/app.cjs')], { env: { EXIT_FILE: exitFile } });
  const pids = await readyWorkers(r.socket, 2);
  r.kill();
  await r.exited;
  await exitedNormally(pids, exitFile);
});

describe('what a user types', () => {
  /** A project with a package whose bin `demo` prints its arguments and serves. */
  function project(): { root: string; entry: string } {
    const root = fs.mkdtempSync(path.join(tmp, 'project-'));
    const pkg = path.join(root, 'node_modules', 'demo');
    fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    fs.writeFileSync(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: 'demo', bin: { demo: 'bin/demo.cjs' } }),
    );
    const entry = path.join(pkg, 'bin', 'demo.cjs');
    fs.copyFileSync(fixture('run/argv.cjs'), entry);
    fs.mkdirSync(path.join(root, 'node_modules', '.bin'));
    fs.symlinkSync('../demo/bin/demo.cjs', path.join(root, 'node_modules', '.bin', 'demo'));
    fs.mkdirSync(path.join(root, 'src'));
    return { root, entry };
  }

  test('a bin name: found in node_modules/.bin (here or above), run as its JS entry, with its arguments', async () => {
    const { root, entry } = project();
    const r = overseerRun(['-w', '2', 'demo', 'start', '-p', '3000'], { cwd: path.join(root, 'src') });
    assert.equal((await r.line(/^argv .*/))[0], 'argv ["start","-p","3000"]');
    await readyWorkers(r.socket, 2);
    assert.equal((await status(r.socket)).binPath, fs.realpathSync(entry));
    assert.equal((await r.stop()).code, 0);
  });

  test("`--` after the script ends overseer's options and is not the app's (pm2 and npm take it so)", async () => {
    const { root } = project();
    const r = overseerRun(['-w', '2', 'node_modules/demo/bin/demo.cjs', '--', 'start', '-p', '3000'], {
      cwd: root,
    });
    assert.equal((await r.line(/^argv .*/))[0], 'argv ["start","-p","3000"]');
    await readyWorkers(r.socket, 2);
    assert.equal((await r.stop()).code, 0);
  });

  test('no such script or bin: one line that says so, with one prefix and its code', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', 'nothing-here', 'start'], {
      cwd: tmp,
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^overseer run: no such script: \S+nothing-here, and no bin 'nothing-here' in node_modules\/\.bin here or above \(ERR_OVERSEER_NO_ENTRY\)\n$/,
    );
  });

  test(`a script that exits 2 at once: the master exits 2 after ${GIVE_UP_AFTER} tries, naming it`, async () => {
    const bad = path.join(tmp, 'usage-error.cjs');
    fs.writeFileSync(bad, "console.error('usage: usage-error.cjs <command>');\nprocess.exit(2);\n");
    const r = overseerRun(['-w', '2', bad]);
    const t0 = Date.now();
    assert.equal((await r.waitExit(30_000)).code, 2);
    const stderr = await stderrOf(r);
    assert.match(
      stderr,
      new RegExp(
        `OVERSEER_EXIT_FAILURE.*the master exits with 2: ${bad.replaceAll('.', '\\.')} failed to start ${GIVE_UP_AFTER} times in a row, each time with status 2`,
      ),
    );
    const tries = stderr.split('\n').filter((l) => l.includes('[OVERSEER_WORKER_FAILED]')).length;
    assert.ok(tries >= GIVE_UP_AFTER && tries <= 2 * GIVE_UP_AFTER, `${tries} tries`);
    console.log(`gave up after ${Date.now() - t0} ms, ${tries} tries`);
  });

  test("started through npx, it prints the master's pid, which takes the restart signal and the stop", {
    skip: spawnSync('npx', ['--version']).status !== 0 && 'no npx',
  }, async () => {
    // A project with overseer installed: its bin is a shim, as on a system without symlinks.
    const root = fs.mkdtempSync(path.join(tmp, 'npx-'));
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'npx-app', private: true }));
    fs.mkdirSync(path.join(root, 'node_modules', '.bin'), { recursive: true });
    const shim = path.join(root, 'node_modules', '.bin', 'overseer');
    fs.writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`, { mode: 0o755 });
    fs.copyFileSync(fixture('run/app.cjs'), path.join(root, 'app.cjs'));
    const socket = path.join(tmp, 'npx.sock');
    const npx = new TestProcess('npx', ['--no-install', 'overseer', 'run', '--ipc-path', socket, 'app.cjs'], {
      cwd: root,
      env: { PORT: '0', npm_config_update_notifier: 'false' },
      label: 'npx',
    });
    // npm's processes and the master are not this test's children: whatever a failure leaves
    // running is found under npx and killed.
    const tree = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...tree(c)]);
    const started = new Set<number>();
    const watch = setInterval(() => {
      for (const p of tree(npx.pid)) started.add(p);
    }, 50);
    try {
      const line = await npx.until(
        () => npx.stderr.map((l) => /^overseer run: the master is pid (\d+) \(/.exec(l)?.[1]).find(Boolean),
        20_000,
        "the master's pid",
      );
      const pid = Number(line);
      assert.notEqual(pid, npx.pid, "npx's own pid is not the master's");
      await readyWorkers(socket, 1);
      assert.equal((await status(socket)).pid, pid);
      process.kill(pid, 'SIGUSR2');
      for (let i = 0; i < 100 && (await status(socket)).restarts !== 1; i++) await sleep(50);
      assert.equal((await status(socket)).restarts, 1, 'the restart signal reached the master');
      process.kill(pid, 'SIGTERM');
      assert.equal((await npx.waitExit(15_000)).code, 0);
      assert.equal(processAlive(pid), false);
    } finally {
      clearInterval(watch);
      signalAll(started, 'SIGKILL');
    }
  });
});
