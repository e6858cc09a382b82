// The master's lifecycle on real processes: readiness, failures, crashes, signals, exit codes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ipcRequest } from '../src/control/client.js';
import { APP, AppProcess, assertAddressInUseRefused } from './support/app.js';
import { get } from './support/http.js';
import { describeErrors, startLoad } from './support/load.js';
import { exitedNormally, stopAll } from './support/process.js';

const LOCAL = { address: '127.0.0.1:0' };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-lifecycle-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a new worker that throws during start leaves the old one serving', async () => {
  const flag = path.join(tmp, 'fail-start');
  const a = new AppProcess({ overseer: LOCAL, failFlag: flag });
  const port = await a.port();
  const first = await a.nth('ready', 1);
  const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 30_000 });
  fs.writeFileSync(flag, '');
  const r = await a.restart();
  fs.rmSync(flag);
  await sleep(300);
  const result = await load.stop();
  assert.equal(r.ok, false);
  assert.match(String(r.error), /failing on purpose/);
  assert.equal(result.failed, 0, describeErrors(result));
  assert.deepEqual([...result.pids], [String(first.pid)]);
  assert.equal(a.count('crash'), 0, 'a failed restart is not a crash');
  // 'error' reaches those who listen (and never throws for those who do not).
  const error = await a.nth('error', 1);
  assert.match(String(error.message), /failing on purpose/);
  // The next restart, with a good program, goes through.
  assert.equal((await a.restart()).ok, true);
  assert.notEqual((await get(port)).pid, String(first.pid));
});

test('a worker that misses readyTimeout is killed and the old one keeps serving', async () => {
  const flag = path.join(tmp, 'hang-start');
  const a = new AppProcess({ overseer: { ...LOCAL, readyTimeout: 1_000 }, hangFlag: flag });
  const port = await a.port();
  const first = await a.nth('ready', 1);
  fs.writeFileSync(flag, '');
  const r = await a.restart();
  fs.rmSync(flag);
  assert.equal(r.ok, false);
  assert.match(String(r.error), /not ready within 1000 ms/);
  const exit = await a.until(
    () => a.events.find((e) => e.event === 'exit' && e.workerId === 2),
    5_000,
    'exit of worker 2',
  );
  assert.equal(exit.signal, 'SIGKILL');
  assert.equal((await get(port)).pid, String(first.pid));
  assert.equal(a.count('crash'), 0);
});

test('SIGKILL of the master: its workers exit within 1 s, and their exit handlers run', async () => {
  const exitFile = path.join(tmp, 'exits-run');
  const a = new AppProcess({ overseer: { ...LOCAL, workers: 2 }, exitFile });
  await a.nth('ready', 2);
  const pids = a.events.filter((e) => e.event === 'fork').map((e) => Number(e.pid));
  assert.equal(pids.length, 2);
  a.child.kill('SIGKILL');
  await a.exited;
  await exitedNormally(pids, exitFile);
});

test('a worker that ignores shutdown is SIGKILLed at terminateTimeout; at a stop, the master then exits 1', async () => {
  const a = new AppProcess({ overseer: { ...LOCAL, terminateTimeout: 1_000 }, ignoreShutdown: true });
  await a.nth('ready', 1);
  const t0 = Date.now();
  assert.equal((await a.restart()).ok, true);
  const exit = await a.until(
    () => a.events.find((e) => e.event === 'exit' && e.workerId === 1),
    5_000,
    'exit of worker 1',
  );
  const took = Date.now() - t0;
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(took >= 900 && took < 4_000, `killed after ${took} ms`);
  // The master says so: a worker killed at terminateTimeout is never silent.
  await a.until(() => a.stderr.some((l) => l.includes('OVERSEER_WORKER_KILLED')), 5_000, 'the kill warning');
  assert.ok(a.stderr.some((l) => /worker 1 \(pid \d+\) had not exited 1000 ms \(terminateTimeout\)/.test(l)));
  // A stop that has to kill its serving worker the same way is a failure: 1, and why.
  a.signal('SIGTERM');
  assert.equal((await a.waitExit(5_000)).code, 1);
  await a.until(() => a.ended, 5_000, 'the end of its output');
  assert.ok(
    a.stderr.some((l) =>
      /OVERSEER_EXIT_FAILURE.*the master exits with 1: worker 2 \(pid \d+\) was SIGKILLed before it had drained/.test(
        l,
      ),
    ),
    a.stderr.join('\n'),
  );
});

test('a second run() is refused in the master and in each worker; its program never runs', async () => {
  const a = new AppProcess({ overseer: LOCAL, runTwice: true });
  await a.nth('ready', 1);
  await a.until(() => a.count('second-run') >= 2, 10_000, 'both sides to report');
  const runs = a.events
    .filter((e) => e.event === 'second-run')
    .map((e) => ({ side: e.side, result: e.result }));
  assert.deepEqual(
    runs.sort((x, y) => String(x.side).localeCompare(String(y.side))),
    [
      { side: 'master', result: 'ERR_OVERSEER_ALREADY_RUNNING' },
      { side: 'worker', result: 'ERR_OVERSEER_ALREADY_RUNNING' },
    ],
  );
  assert.equal(a.count('second-program'), 0);
  a.signal('SIGTERM');
  assert.equal((await a.waitExit(10_000)).code, 0);
});

test('a crash loop backs off and does not spin', async () => {
  const flag = path.join(tmp, 'crash-loop');
  fs.writeFileSync(flag, '');
  const a = new AppProcess({ overseer: LOCAL, failFlag: flag });
  await sleep(4_000);
  fs.rmSync(flag);
  const forks = a.count('fork');
  const crashes = a.events.filter((e) => e.event === 'crash');
  // 500, 750, 1125, 1687 ms… : at most 5 forks in 4 s, where a spinning loop makes dozens.
  assert.ok(forks >= 3 && forks <= 6, `${forks} forks in 4 s`);
  const delays = crashes.map((e) => Number(e.restartInMs));
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! > delays[i - 1]!, `backoff grows: ${delays}`);
  // Once the program is fixed, the next replacement becomes ready.
  await a.until(() => a.events.find((e) => e.event === 'ready'), 10_000, 'a ready worker after the loop');
});

test('a crashed worker is replaced and the master keeps serving', async () => {
  const flag = path.join(tmp, 'crash-once');
  const a = new AppProcess({ overseer: LOCAL, crashFlag: flag, crashCode: 9 });
  const port = await a.port();
  await a.nth('ready', 1);
  fs.writeFileSync(flag, '');
  a.child.kill('SIGUSR2');
  const crash = await a.nth('crash', 1);
  fs.rmSync(flag);
  assert.equal(crash.code, 9);
  await a.until(() => a.events.filter((e) => e.event === 'ready').length >= 3, 10_000, 'replacement ready');
  assert.equal((await get(port)).status, 200);
});

test('exit codes propagate with noRestart: a code, and 128+N for a signal', async () => {
  const flag = path.join(tmp, 'exit-7');
  fs.writeFileSync(flag, '');
  const a = new AppProcess({ overseer: { ...LOCAL, noRestart: true }, crashFlag: flag, crashCode: 7 });
  assert.equal((await a.exited).code, 7);

  const b = new AppProcess({ overseer: { ...LOCAL, noRestart: true } });
  const w = await b.nth('ready', 1);
  process.kill(Number(w.pid), 'SIGKILL');
  assert.equal((await b.exited).code, 128 + os.constants.signals.SIGKILL);
  fs.rmSync(flag);
});

test('SIGTERM, SIGINT and SIGHUP shut down gracefully with exit code 0', async () => {
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    const a = new AppProcess({ overseer: LOCAL });
    const port = await a.port();
    await a.nth('ready', 1);
    const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 10_000 });
    await sleep(200);
    a.child.kill(sig);
    const { code } = await a.exited;
    await load.stop();
    assert.equal(code, 0, `${sig}: exit code`);
    assert.equal(
      a.count('exit', (e) => e.expected === true),
      1,
    );
  }
});

test('a burst of 100 restart signals coalesces and ends with exactly the configured workers', async () => {
  const a = new AppProcess({ overseer: { ...LOCAL, workers: 2 } });
  const port = await a.port();
  await a.nth('ready', 2);
  const burst = Date.now();
  for (let i = 0; i < 100; i++) {
    a.child.kill('SIGUSR2');
    await sleep(10);
  }
  const burstMs = Date.now() - burst;
  await a.until(() => a.count('restart') >= 1, 20_000, 'restarts');
  await sleep(2_000);
  // Settled: the last restart's old workers are gone, and every fork was one restart's new
  // worker for one slot; an extra worker, or a restart that forks twice, never settles.
  await a.until(
    () => a.count('fork') - a.count('exit') === 2 && a.count('fork') === 2 + 2 * a.count('restart'),
    20_000,
    'exactly the 2 configured workers, one new worker per slot per restart',
  );
  // Signals that arrive during a restart join one follow-up restart: the count is bounded
  // by how many restarts fit in the burst (about a second), not by the 100 signals.
  const restarts = a.count('restart');
  const oneRestartMs = Math.min(
    ...a.events.filter((e) => e.event === 'restart').map((e) => Number(e.durationMs)),
  );
  assert.ok(
    restarts <= Math.ceil(Math.max(1_500, burstMs + 500) / oneRestartMs) + 1,
    `${restarts} restarts for 100 signals in ${burstMs} ms`,
  );
  assert.ok(restarts < 20, `${restarts} restarts for 100 signals`);
  assert.equal((await get(port)).status, 200);
});

test('stale messages from an exiting worker never cause an extra fork', async () => {
  const a = new AppProcess({ overseer: { ...LOCAL, workers: 2 }, staleMessages: true });
  await a.nth('ready', 2);
  for (let i = 0; i < 5; i++) assert.equal((await a.restart()).ok, true);
  await sleep(300);
  assert.equal(a.count('fork'), 2 + 2 * 5);
  assert.equal(a.count('crash'), 0);
});

test('unix socket listeners: served, a stale socket file is replaced, and removed on exit', async () => {
  const sock = path.join(tmp, 'app.sock');
  // A stale socket file, as a SIGKILLed master leaves behind.
  execFileSync('python3', [
    '-c',
    `import socket; s=socket.socket(socket.AF_UNIX); s.bind(${JSON.stringify(sock)})`,
  ]);
  assert.ok(fs.statSync(sock).isSocket());
  const a = new AppProcess({ overseer: { address: `unix:${sock}` } });
  await a.nth('ready', 1);
  const load = startLoad({ socketPath: sock, concurrency: 4, keepAlive: true, maxMs: 30_000 });
  assert.equal((await a.restart()).ok, true);
  const r = await load.stop();
  assert.equal(r.failed, 0, describeErrors(r));
  assert.ok(r.ok > 0);
  // A second master on the same live socket is refused.
  await assertAddressInUseRefused(`unix:${sock}`);
  assert.equal((await a.stop()).code, 0, JSON.stringify(a.events.filter((e) => e.event === 'exit')));
  assert.equal(fs.existsSync(sock), false, 'socket file removed on exit');
});

test('a port in use is an error, never a silent fallback', async () => {
  const a = new AppProcess({ overseer: LOCAL });
  await assertAddressInUseRefused(`127.0.0.1:${await a.port()}`);
});

test("':0' shows the real port in state.address and in the master's events", async () => {
  const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
  const a = new AppProcess({ overseer: { addresses: [':0', '127.0.0.1:0'] }, stateDir });
  const listening = await a.nth('listening', 1);
  const addrs = listening.addresses as string[];
  assert.match(addrs[0]!, /^:\d+$/);
  assert.match(addrs[1]!, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(addrs[0], ':0');
  await a.nth('ready', 1);
  const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'worker-1.json'), 'utf8'));
  assert.equal(state.address, addrs[0]);
  assert.deepEqual(state.addresses, addrs);
  assert.deepEqual(
    state.listeners.map((l: { fd: number }) => l.fd),
    [3, 4],
  );
});

test('the worker contract: env scrubbed, binPath not resolved through symlinks, argv passed on', async () => {
  const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
  const link = path.join(stateDir, 'linked-app.js');
  fs.symlinkSync(APP, link);
  const a = new AppProcess({ overseer: LOCAL, stateDir }, { script: link, args: ['--flag', 'x'] });
  await a.nth('ready', 1);
  const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'worker-1.json'), 'utf8'));
  assert.equal(state.enabled, true);
  assert.equal(state.workerId, 1);
  assert.equal(state.binPath, link);
  assert.match(state.id, /^[0-9a-f]{64}$/);
  assert.equal(state.ppid, a.pid);
  assert.deepEqual(state.argv.slice(1), [link, '--flag', 'x']);
  assert.deepEqual(
    Object.keys(state.env).filter((k) => k.startsWith('OVERSEER_')),
    [],
  );
});

test("a program file that changed: the next workers' state.id and the master's binHash are its new sha256", async () => {
  const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
  const script = path.join(stateDir, 'program.mjs');
  let source = `import ${JSON.stringify(pathToFileURL(APP).href)};\n`;
  fs.writeFileSync(script, source);
  const a = new AppProcess({ overseer: LOCAL, stateDir }, { script });
  const ipc = String((await a.nth('ipc', 1)).path);
  const seen = async (workerId: number) => {
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, `worker-${workerId}.json`), 'utf8'));
    const status = (await ipcRequest(ipc, 'GET', '/overseer/status', 5_000)).body as { binHash: string };
    return { id: state.id as string, binHash: status.binHash };
  };
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  assert.deepEqual(await seen(1), { id: sha(source), binHash: sha(source) });
  // A deploy: the file changes, then a restart.
  source += '// 2\n';
  fs.writeFileSync(script, source);
  assert.equal((await a.restart()).ok, true);
  assert.deepEqual(await seen(2), { id: sha(source), binHash: sha(source) });
  // The file changes again, and the worker crashes: its replacement runs the new file.
  source += '// 3\n';
  fs.writeFileSync(script, source);
  process.kill(Number((await a.nth('ready', 2)).pid), 'SIGKILL');
  await a.nth('ready', 3);
  assert.deepEqual(await seen(3), { id: sha(source), binHash: sha(source) });
});

test('without the addon, the program runs in-process with a disabled State', async () => {
  const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
  const a = new AppProcess(
    { overseer: { address: '127.0.0.1:0' }, stateDir },
    { env: { OVERSEER_NO_NATIVE: '1' } },
  );
  await a.until(() => fs.existsSync(path.join(stateDir, 'worker-0.json')), 10_000, 'disabled state');
  const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'worker-0.json'), 'utf8'));
  assert.equal(state.enabled, false);
  assert.equal(state.pid, a.pid);
  assert.ok(
    a.stderr.some((l) => l.includes('OVERSEER_DISABLED')),
    a.stderr.join('\n'),
  );
  assert.equal((await a.stop()).code, 0);

  const b = new AppProcess(
    { overseer: { address: '127.0.0.1:0', required: true } },
    { env: { OVERSEER_NO_NATIVE: '1' } },
  );
  assert.equal((await b.exited).code, 1);
  assert.ok(
    b.stderr.some((l) => l.includes('ERR_OVERSEER_UNSUPPORTED')),
    b.stderr.join('\n'),
  );
});

test('config.debug prints the debug log; config.noWarn silences the warnings', async () => {
  const flag = path.join(tmp, 'fail-for-nowarn');
  const loud = new AppProcess({ overseer: { ...LOCAL, debug: true }, failFlag: flag });
  await loud.nth('ready', 1);
  await loud.until(
    () => loud.stderr.some((l) => /^OVERSEER \d+: listening on 127\.0\.0\.1:\d+/.test(l)),
    5_000,
    'debug log',
  );
  fs.writeFileSync(flag, '');
  try {
    assert.equal((await loud.restart()).ok, false);
    await loud.until(
      () => loud.stderr.some((l) => l.includes('OVERSEER_RESTART_FAILED')),
      5_000,
      'the warning',
    );
    const quiet = new AppProcess({ overseer: { ...LOCAL, noWarn: true }, failFlag: flag });
    await sleep(1_500); // its first worker fails to start, and is retried with backoff
    assert.ok(quiet.count('crash') >= 1);
    assert.equal(
      quiet.stderr.filter((l) => l.includes('OverseerWarning')).length,
      0,
      quiet.stderr.join('\n'),
    );
  } finally {
    fs.rmSync(flag, { force: true });
  }
});
