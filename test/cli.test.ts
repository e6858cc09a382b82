// The `overseer` CLI end to end, against a real master on its default control socket.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { CLI } from './support/paths.js';
import { node, readerGoesAway, stopAll } from './support/process.js';

let app: AppProcess;
let ipcPath: string;
/** While this file exists, the app's new workers throw as they start. */
const failFlag = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cli-')), 'fail');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, OVERSEER_IPC_PATH: '', XDG_RUNTIME_DIR: app.runtimeDir, ...env },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  app = new AppProcess({ overseer: { address: '127.0.0.1:0', workers: 2 }, nullFetcher: true, failFlag });
  await app.nth('ready', 2);
  const ls = cli(['ls', '--json']);
  const mine = (JSON.parse(ls.stdout) as { socket: string; status: { pid: number } }[]).find(
    (m) => m.status.pid === app.pid,
  );
  assert.ok(mine, `overseer ls does not list pid ${app.pid}: ${ls.stdout}`);
  ipcPath = mine.socket;
});
after(async () => {
  await stopAll();
  fs.rmSync(path.dirname(failFlag), { recursive: true, force: true });
});

test('ls lists the running master in a table', () => {
  const r = cli(['ls']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^NAME\s+PID\s+UP\s+WORKERS\s+CPU\s+MEM\s+RESTARTS\s+APP\s+SOCKET/);
  assert.ok(r.stdout.includes(String(app.pid)));
  assert.ok(r.stdout.includes(ipcPath));
});

test('status, as text and as --json', () => {
  const text = cli(['status', '--socket', ipcPath]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`master\\s+pid ${app.pid}`));
  assert.match(text.stdout, /WORKER\s+PID\s+SLOT\s+STATE/);
  const json = cli(['status', '--json'], { OVERSEER_IPC_PATH: ipcPath });
  assert.equal(json.code, 0);
  const s = JSON.parse(json.stdout);
  assert.equal(s.pid, app.pid);
  assert.equal(s.workers.length, 2);
});

test('restart returns when the new workers are ready', async () => {
  const before = app.count('restart');
  const r = cli(['restart', '-s', ipcPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^restarted in \d+ ms/);
  // spawnSync held this process's loop; the master's event lines arrive now.
  const done = await app.nth('restart', before + 1);
  assert.equal(done.ok, true);
  assert.equal(done.replaced, 2);
});

test('trigger-update reports the result', () => {
  const r = cli(['trigger-update', '-s', ipcPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `no update (${app.name}, pid ${app.pid})\n`);
  const json = cli(['trigger-update', '-s', ipcPath, '--json']);
  assert.deepEqual(JSON.parse(json.stdout), { ok: true, result: 'no-update' });
});

test('events follows the stream', async () => {
  const child = node(CLI, ['events', '-s', ipcPath, '--json'], { label: 'overseer events' });
  // The CLI prints nothing until an event comes, so it cannot say when it has subscribed:
  // restart until a whole restart shows up (bounded).
  const kinds = (): string[] => child.events.map((e) => e.event);
  const complete = (): boolean => ['fork', 'ready', 'restart'].every((k) => kinds().includes(k));
  for (let i = 0; i < 5 && !complete(); i++) {
    await sleep(300);
    cli(['restart', '-s', ipcPath]);
    const deadline = Date.now() + 5_000;
    while (!complete() && Date.now() < deadline) await sleep(50);
  }
  const { code } = await child.stop(5_000, 'SIGINT');
  assert.ok(complete(), kinds().join(','));
  // Every line it printed is an event.
  assert.equal(child.events.length, child.lines.length, child.lines.join('\n'));
  assert.equal(code, 0);
});

test('top into a reader that goes away (| head -1): it ends quietly, with 0', async () => {
  const env = { OVERSEER_IPC_PATH: '', XDG_RUNTIME_DIR: app.runtimeDir };
  // Not a terminal: a snapshot each refresh, the second of which meets the closed pipe.
  const r = await readerGoesAway(CLI, ['top', '-s', ipcPath], { env, timeoutMs: 20_000 });
  assert.notEqual(r.first, '', 'it printed a snapshot');
  assert.deepEqual([r.code, r.signal, r.stderr], [0, null, '']);
});

test('events into a reader that goes away (| head -1): it ends quietly, with 0', async () => {
  const env = { OVERSEER_IPC_PATH: '', XDG_RUNTIME_DIR: app.runtimeDir };
  const piped = readerGoesAway(CLI, ['events', '-s', ipcPath], { env });
  let ended = false;
  void piped.finally(() => (ended = true));
  // Events to print: the first line, then the write that meets the closed pipe (bounded).
  for (let i = 0; i < 10 && !ended; i++) {
    await ipcRequest(ipcPath, 'POST', '/overseer/restart', 30_000);
    await sleep(200);
  }
  const r = await piped;
  assert.notEqual(r.first, '', 'it printed an event');
  assert.deepEqual([r.code, r.signal, r.stderr], [0, null, '']);
});

test('errors are one clear line with the usual exit codes', () => {
  const usage = cli(['frobnicate']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /^overseer: unknown command 'frobnicate'\n/);
  const badFlag = cli(['status', '--nope']);
  assert.equal(badFlag.code, 2);
  // A value that starts with a dash: parseArgs's three lines of advice, as one.
  const dash = cli(['logs', '-n', '-5']);
  assert.equal(dash.code, 2);
  assert.match(dash.stderr, /^overseer: .*'-n'.*--lines=-XYZ.*\nrun 'overseer --help' for usage\n$/);
  for (const t of ['0', 'x', '99999999999']) {
    const badTimeout = cli(['status', '-t', t]);
    assert.equal(badTimeout.code, 2, t);
    assert.match(
      badTimeout.stderr,
      /^overseer: --timeout must be a number of milliseconds \(1 to 2\^31-1\)\n/,
    );
  }
  const missing = cli(['status', '--socket', '/nonexistent/overseer.sock']);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /^overseer: cannot reach the master at \/nonexistent\/overseer\.sock: .*ENOENT/,
  );
  assert.equal(missing.stderr.trim().split('\n').length, 1);
  // The master's answer ends with its code: run()'s master keeps no logs (409).
  const noLogs = cli(['logs', '-s', ipcPath]);
  assert.equal(noLogs.code, 1);
  assert.match(
    noLogs.stderr,
    /^overseer: cannot read logs at .*: .*keeps no logs.* \(ERR_OVERSEER_NO_LOGS\)\n$/,
  );
  const noEvents = cli(['events', '-s', '/nonexistent/overseer.sock']);
  assert.equal(noEvents.code, 1);
  assert.match(noEvents.stderr, /^overseer: cannot reach the master at .*ENOENT.*\n$/);
  assert.equal(
    cli(['--version']).stdout.trim(),
    JSON.parse(spawnSync('npm', ['pkg', 'get', 'version'], { encoding: 'utf8' }).stdout),
  );
});

test('a master that never answers: commands give up after --timeout (ls after 2 s, and lists it), with the code', async () => {
  // A socket that accepts (the kernel does, from its backlog) and never answers, as a stopped
  // (SIGSTOP) or wedged master's does, among the masters' sockets, where ls looks.
  const socket = path.join(app.runtimeDir, 'overseer', 'mute.sock');
  const mute = net.createServer(() => {}).listen(socket);
  await once(mute, 'listening');
  try {
    let t0 = performance.now();
    const r = cli(['status', '--socket', socket, '-t', '500']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^overseer: cannot reach the master at .*: no answer within 500 ms \(ETIMEDOUT\)\n$/,
    );
    assert.ok(performance.now() - t0 < 10_000, `status took ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
    const ls = cli(['ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.stdout.includes(String(app.pid)), ls.stdout);
    // It is there, and says so: never left out as gone.
    assert.match(ls.stdout, /^mute\s.*no answer \(ETIMEDOUT\)\s+\S*mute\.sock$/m, ls.stdout);
    assert.ok(performance.now() - t0 < 10_000, `ls took ${Math.round(performance.now() - t0)} ms`);
  } finally {
    mute.close();
  }
});

test('an empty --socket is a usage error, not "any master"', () => {
  const r = cli(['restart', '--socket', '']);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stderr, /^overseer: --socket needs a path\n/);
  assert.equal(r.stdout, '');
});

test("a worker's reexec(command) is refused: the command is the master's to choose", async () => {
  const r = JSON.parse((await get(await app.port(), '/reexec-with-command')).body) as {
    code?: string;
    error?: string;
  };
  assert.equal(r.code, 'ERR_INVALID_ARG_VALUE', JSON.stringify(r));
  assert.match(r.error ?? '', /reexec\(command\) in a worker/);
});

test('a failed restart: one line on stderr that gives the code, nothing on stdout, and 1', () => {
  fs.writeFileSync(failFlag, '');
  try {
    const r = cli(['restart', '-s', ipcPath]);
    assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 1, stdout: '' });
    assert.match(
      r.stderr,
      new RegExp(
        `^restart failed \\(${app.name}, pid ${app.pid}\\): .*failing on purpose.* \\(ERR_OVERSEER_WORKER_FAILED\\)\n$`,
      ),
    );
    // --json: the answer on stdout, as a script reads it, whatever it says.
    const json = cli(['restart', '-s', ipcPath, '--json']);
    assert.equal(json.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(json.stdout)).sort(), [
      'code',
      'durationMs',
      'error',
      'ok',
      'replaced',
    ]);
  } finally {
    fs.rmSync(failFlag, { force: true });
  }
});
