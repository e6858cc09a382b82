// `overseer run app.js`: an unmodified app (plain http, Express, Fastify, Koa) restarts
// hitlessly under load; its modules never load in the master; readiness, a failing new
// version, its own signal handling after the drain; listen(0), two servers, a unix socket;
// the config file and its coded errors; the workers' output, whole, and `overseer logs`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { createApiServer } from '../src/control/http-api.js';
import { LogBuffer } from '../src/master/log-buffer.js';
import { get } from './support/http.js';
import { answeredBy, describeErrors, startLoad } from './support/load.js';
import { CLI, fixture } from './support/paths.js';
import { node, readerGoesAway, rssKiB, stopAll } from './support/process.js';
import { restartsUnderLoad } from './support/restarts.js';
import { Run } from './support/run.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-run-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('unmodified apps restart hitlessly: 3 restarts under keep-alive load, 0 failed', () => {
  for (const [name, script, workers] of [
    ['a plain http app, listen({ port, host, backlog })', 'app.cjs', 1],
    ['a plain http app, 2 workers', 'app.cjs', 2],
    ['Express, app.listen(port)', 'express.mjs', 1],
    ['Fastify, its own listen()', 'fastify.mjs', 1],
    ['Koa, app.listen(port)', 'koa.cjs', 1],
  ] as const) {
    test(name, async () => {
      const r = new Run(script, ['-w', String(workers)], { PORT: '0' });
      await r.ready(workers);
      await restartsUnderLoad(r, { workers, minPids: 4 });
    });
  }
});

test('a 50 MB top-level import loads in the workers, never in the master', async () => {
  const bare = node('-e', ['setInterval(() => {}, 1000)']);
  const light = new Run('app.cjs', [], { PORT: '0' });
  const heavy = new Run('heavy.cjs', [], { PORT: '0' });
  try {
    for (const r of [light, heavy]) {
      await r.port();
      await r.ready(1);
    }
    await sleep(500);
    const master = { light: rssKiB(light.pid), heavy: rssKiB(heavy.pid) };
    const worker = { light: rssKiB(light.workers()[0]!), heavy: rssKiB(heavy.workers()[0]!) };
    const bareRss = rssKiB(bare.pid);
    console.log(
      `RSS KiB: bare node ${bareRss}; masters ${JSON.stringify(master)}; workers ${JSON.stringify(worker)}`,
    );
    assert.ok(
      worker.heavy > worker.light + 45 * 1024,
      `the worker carries the import: ${JSON.stringify(worker)}`,
    );
    assert.ok(
      Math.abs(master.heavy - master.light) < 3 * 1024,
      `the master does not: the heavy app's master is within 3 MB of the light one's: ${JSON.stringify(master)}`,
    );
    assert.match((await get(await heavy.port())).body, /^heavy 52428800/);
  } finally {
    bare.kill();
  }
});

describe('readiness', () => {
  test("--ready listening (default): a worker with two servers is ready when both listen, as its predecessor's did", async () => {
    const r = new Run('app.cjs', [], { PORT: '0', PORT2: '0' });
    await r.line(/^second listening/);
    await r.restart();
    const status = await r.status();
    assert.equal((status.addresses as string[]).length, 2, JSON.stringify(status.addresses));
    // Both ports are served by the new worker.
    const [, first] = (await r.line(/^listening on .*:(\d+)/)) as unknown as string[];
    const [, second] = (await r.line(/^second listening on .*:(\d+)/)) as unknown as string[];
    const a = await get(Number(first));
    const b = await get(Number(second));
    assert.match(a.body, /^main /);
    assert.match(b.body, /^second /);
    assert.equal(a.body.split(' ')[1], b.body.split(' ')[1], 'one worker serves both');
  });

  test("--ready message: ready only once the app calls process.send('ready')", async () => {
    const r = new Run('app.cjs', ['--ready', 'message'], { PORT: '0', READY_AFTER_MS: '700' });
    await r.port();
    const early = (await r.status()).workers as { state: string }[];
    assert.equal(early[0]?.state, 'starting', 'listening is not ready in this mode');
    await r.ready(1);
    const t0 = Date.now();
    await r.restart();
    assert.ok(Date.now() - t0 >= 600, 'the restart waited for the message');
  });

  test('--ready none: ready at start', async () => {
    // An app that never listens: only --ready none can call it ready.
    fs.writeFileSync(path.join(tmp, 'none'), 'hang');
    const r = new Run('app.cjs', ['--ready', 'none'], { BEHAVIOR_FILE: path.join(tmp, 'none'), PORT: '0' });
    await r.ready(1);
  });

  for (const [how, timeout] of [
    ['crashes', []],
    ['hangs', ['--ready-timeout', '1500']],
  ] as const) {
    test(`a new version that ${how} at start is refused and the old one keeps serving`, async () => {
      const flag = path.join(tmp, `behavior-${how}`);
      fs.writeFileSync(flag, 'ok');
      const r = new Run('app.cjs', [...timeout], { PORT: '0', BEHAVIOR_FILE: flag });
      const port = await r.port();
      await r.ready(1);
      const before = (await get(port)).body;
      fs.writeFileSync(flag, how === 'crashes' ? 'crash' : 'hang');
      const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 30_000 });
      const result = await r.restartResult();
      assert.equal(result.ok, false);
      assert.equal(
        result.code,
        how === 'crashes' ? 'ERR_OVERSEER_WORKER_EXITED' : 'ERR_OVERSEER_READY_TIMEOUT',
      );
      const served = await load.stop();
      assert.equal(served.failed, 0, describeErrors(served));
      assert.equal((await get(port)).body, before, 'the old worker serves');
    });
  }
});

describe('shutdown: the drain first, then the signal the app handles', () => {
  test('its own SIGTERM handler runs once per worker, after its servers drained', async () => {
    const log = path.join(tmp, 'pool.log');
    const r = new Run('app.cjs', [], { PORT: '0', POOL_LOG: log });
    const port = await r.port();
    await r.ready(1);
    const slow = get(port, '/slow');
    await sleep(50);
    await r.restart();
    await r.settle(1);
    assert.match((await slow).body, /slow/, 'the request in flight was served');
    const { code } = await r.stop();
    assert.equal(code, 0);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 2, `one cleanup per worker: ${lines.join(' | ')}`);
    assert.equal(new Set(lines.map((l) => l.split(' ')[0])).size, 2);
    for (const l of lines) assert.match(l, /closed listening=false$/, 'after the drain');
  });

  test('an app that ignores SIGTERM is killed at --terminate-timeout', async () => {
    const r = new Run('app.cjs', ['--terminate-timeout', '800'], { PORT: '0', IGNORE_TERM: '1' });
    await r.port();
    await r.ready(1);
    const [old] = r.workers();
    await r.restart();
    await r.line(new RegExp(`^${old} ignores SIGTERM`));
    await r.settle(1, 3_000);
    assert.ok(!r.workers().includes(old!), 'the old worker is gone');
    // The warning and the status that no longer lists the worker take different ways here (a
    // pipe, a socket): on a busy host the status can come first.
    await r.until(
      () => r.stderr.some((l) => /OVERSEER_WORKER_KILLED|terminateTimeout/.test(l)),
      5_000,
      'the warning that the worker was killed',
    );
  });
});

describe('listens', () => {
  test('listen(0) in 2 workers is one port, kept across a restart', async () => {
    const r = new Run('app.cjs', ['-w', '2'], { PORT: '0' });
    await r.ready(2);
    await r.restart();
    // The workers' stdout reaches the test through the master's, on no schedule of the restart's answer.
    const listening = (): string[] => r.lines.filter((l) => l.startsWith('listening on'));
    await r.until(() => (listening().length >= 4 ? true : undefined), 10_000, 'four listening lines');
    const ports = listening().map((l) => l.split(':').at(-1));
    assert.equal(ports.length, 4);
    assert.equal(new Set(ports).size, 1, ports.join(' '));
  });

  test('a unix socket path', async () => {
    const sock = path.join(tmp, 'app.sock');
    const r = new Run('app.cjs', [], { SOCK: sock });
    await r.line(/^listening on \//);
    await r.ready(1);
    const load = startLoad({ socketPath: sock, concurrency: 4, keepAlive: true, maxMs: 30_000 });
    await sleep(200);
    await answeredBy(load.pids, 1);
    await r.restart();
    await r.settle(1); // the old worker drained: its keep-alive connections moved over
    await sleep(200);
    await answeredBy(load.pids, 2);
    const result = await load.stop();
    assert.equal(result.failed, 0, describeErrors(result));
    assert.ok(result.pids.size >= 2);
    await r.stop();
    assert.equal(fs.existsSync(sock), false, 'the socket file goes with the master');
  });

  test('an abstract unix socket (Linux): served from the master, across a restart', {
    skip: process.platform !== 'linux' && 'Linux only',
  }, async () => {
    const name = `overseer-test-run-${process.pid}`;
    const r = new Run('app.cjs', [], { ABSTRACT_SOCK: name });
    // server.address() is the name as the app gave it, as in Node.
    await r.line(/^listening on "\\u0000overseer-test-run-/);
    await r.ready(1);
    const target = { socketPath: `\0${name}` };
    const before = (await get(target)).body;
    await r.restart();
    await r.settle(1);
    const after = (await get(target)).body;
    assert.match(before, /^main \d+/);
    assert.match(after, /^main \d+/);
    assert.notEqual(after, before, 'the new worker serves it');
    await r.stop();
  });
});

describe('options and the config file', () => {
  const cli = (args: string[], cwd = tmp) =>
    spawnSync(process.execPath, [CLI, 'run', ...args], { cwd, encoding: 'utf8', timeout: 20_000 });
  const script = fixture('run/app.cjs');

  test('a mistake on the command line is a coded error naming the flag', () => {
    // One line on stderr, ending with the error's code.
    const invalid = / \(ERR_OVERSEER_INVALID_CONFIG\)\n$/;
    for (const [args, says, code] of [
      [['--workers', 'two', script], /--workers must be an integer .* got 'two'/, invalid],
      [['--ready-timeout', '0', script], /--ready-timeout must be a number of milliseconds/, invalid],
      [['--ready', 'soon', script], /--ready must be one of listening, message, none/, invalid],
      [['--kill-signal', 'SIGKILL', script], /--kill-signal must be a catchable signal/, invalid],
      [['--restart-mode', 'fast', script], /--restart-mode must be 'overlap' or 'sequential'/, invalid],
      // A value that starts with a dash is the flag's value, as after an `=`.
      [
        ['--drain-delay', '-1', script],
        /--drain-delay must be a number of milliseconds .* got '-1'/,
        invalid,
      ],
      [
        ['--ready-timeout', '-5', script],
        /--ready-timeout must be a number of milliseconds .* got '-5'/,
        invalid,
      ],
      [['-w', '-1', script], /--workers must be an integer .* got '-1'/, invalid],
      [[path.join(tmp, 'nope.js')], /no such script/, / \(ERR_OVERSEER_NO_ENTRY\)\n$/],
    ] as const) {
      const r = cli([...args]);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, says);
      assert.match(r.stderr, code);
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    }
    // Node 20 itself reads any --env-file in its argv, the script's arguments too, and exits
    // with 9 for a missing file before overseer runs; later versions leave it to overseer.
    const envFile = cli(['--env-file', path.join(tmp, 'missing.env'), script]);
    assert.ok([1, 9].includes(envFile.status!), envFile.stderr);
    assert.match(envFile.stderr, /missing\.env/);
    const typo = cli(['--wrokers', '2', script]);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /--wrokers/);
    assert.equal(cli([]).status, 2, 'no script');
  });

  test('a mistake in the config file is a coded error naming the file and its field', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cfg-'));
    fs.copyFileSync(script, path.join(dir, 'app.cjs'));
    for (const [config, says] of [
      [{ wrokers: 2 }, /overseer\.config\.json: wrokers is not a known option/],
      [{ workers: 0 }, /overseer\.config\.json: workers must be an integer/],
      [{ env: { A: 1 } }, /overseer\.config\.json: env\.A must be a string/],
    ] as const) {
      fs.writeFileSync(path.join(dir, 'overseer.config.json'), JSON.stringify(config));
      const r = cli(['app.cjs'], dir);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, says);
    }
    fs.writeFileSync(path.join(dir, 'overseer.config.json'), '{ nope');
    assert.match(cli(['app.cjs'], dir).stderr, /overseer\.config\.json: cannot be read/);
  });

  test("the command line: the script's own arguments stay its own, -w max, and --", async () => {
    const { runOptions } = await import('../src/cli/run-options.js');
    const o = await runOptions(['-w', 'max', '--log-prefix', script, '--port', '8080', '-w', '1']);
    assert.ok(o !== 'help');
    assert.equal(o.engine.workers, os.availableParallelism());
    assert.equal(o.app.logPrefix, true);
    assert.equal(o.app.script, script);
    assert.deepEqual(o.app.args, ['--port', '8080', '-w', '1']);
    const dashed = await runOptions(['--ready=none', '--', script, '-x']);
    assert.ok(dashed !== 'help');
    assert.equal(dashed.app.ready, 'none');
    assert.deepEqual(dashed.app.args, ['-x']);
    assert.equal(await runOptions(['--help']), 'help');
  });

  test('a path in the config file is relative to the file; on the command line, to the cwd', async () => {
    const { runOptions } = await import('../src/cli/run-options.js');
    const dir = fs.mkdtempSync(path.join(tmp, 'paths-'));
    fs.copyFileSync(script, path.join(dir, 'app.cjs'));
    const config = path.join(dir, 'overseer.config.json');
    const fields = { script: 'app.cjs', envFile: 'app.env', fetchFile: 'next/app.cjs' };
    fs.writeFileSync(config, JSON.stringify(fields));
    assert.notEqual(process.cwd(), dir);
    const fromFile = await runOptions(['-c', config]);
    assert.ok(fromFile !== 'help');
    assert.deepEqual(
      [fromFile.app.script, fromFile.app.envFile, fromFile.fetch.file],
      [path.join(dir, 'app.cjs'), path.join(dir, 'app.env'), path.join(dir, 'next', 'app.cjs')],
    );
    const fromCli = await runOptions(['-c', config, '--env-file', 'cli.env', '--fetch-file', 'cli.cjs']);
    assert.ok(fromCli !== 'help');
    assert.deepEqual(
      [fromCli.app.envFile, fromCli.fetch.file],
      [path.resolve('cli.env'), path.resolve('cli.cjs')],
    );
  });

  test('--env-file: its variables reach the workers, read again at each start', async () => {
    const envFile = path.join(tmp, 'app.env');
    fs.writeFileSync(envFile, 'GREETING=one\n');
    const r = new Run('app.cjs', ['--env-file', envFile], { PORT: '0', SHOW_ENV: 'GREETING' });
    await r.line(/^env GREETING=one$/);
    await r.ready(1);
    fs.writeFileSync(envFile, 'GREETING=two\n');
    await r.restart();
    await r.line(/^env GREETING=two$/);
  });

  test("status's binHash is the sha256 of the app's file as the workers started it: edited, then restarted", async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'edited-'));
    const app = path.join(dir, 'app.cjs');
    fs.copyFileSync(script, app);
    const sha = () => createHash('sha256').update(fs.readFileSync(app)).digest('hex');
    const r = new Run(app, [], { PORT: '0' });
    await r.ready(1);
    assert.equal((await r.status()).binHash, sha());
    fs.appendFileSync(app, '// a new version\n');
    await r.restart();
    assert.equal((await r.status()).binHash, sha());
  });

  test('the app sees nothing of the worker contract: no OVERSEER_* variable, no preload', async () => {
    const r = new Run('app.cjs', [], { PORT: '0', SHOW_OVERSEER_ENV: '1', OVERSEER_FROM_THE_SHELL: 'x' });
    const seen = JSON.parse((await r.line(/^overseer env (.*)$/))[1]!) as {
      vars: string[];
      execArgv: string[];
    };
    assert.deepEqual(seen.vars, []);
    assert.deepEqual(
      seen.execArgv.filter((a) => a.includes('preload')),
      [],
    );
  });

  test('the config file (.js) holds the same fields; the command line wins', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'cfgjs-'));
    fs.copyFileSync(script, path.join(dir, 'app.cjs'));
    fs.writeFileSync(path.join(dir, '.env'), 'FROM_ENV_FILE=yes\n');
    fs.writeFileSync(
      path.join(dir, 'overseer.config.js'),
      `export default { script: 'app.cjs', workers: 3, logPrefix: true, envFile: '.env', env: { PORT: '0' } };\n`,
    );
    const socket = path.join(tmp, 'cfgjs.sock');
    const child = node(CLI, ['run', '-w', '2', '--ipc-path', socket], { cwd: dir });
    try {
      const listening = (): string[] => child.lines.filter((l) => /listening on/.test(l));
      await child.until(() => listening().length >= 2, 10_000, 'two workers listening');
      // logPrefix from the file, on the address the app chose.
      assert.match(listening()[0]!, /^\[worker \d+\] listening on 127\.0\.0\.1:\d+$/);
      const status = (await ipcRequest(socket, 'GET', '/overseer/status')).body as { workers: unknown[] };
      assert.equal(status.workers.length, 2, 'the command line wins');
    } finally {
      await child.stop();
    }
  });
});

describe('logs', () => {
  test('two workers writing 10,000 lines each at once come out whole, and overseer logs has the last ones', async () => {
    const r = new Run('chatty.cjs', ['-w', '2', '--log-lines', '500'], { LINES: '10000' });
    await r.ready(2);
    const numberedLines = (): string[] => r.lines.filter((l) => / line \d+ /.test(l));
    await r.until(() => numberedLines().length >= 20_000, 10_000, '20,000 numbered lines');
    const numbered = numberedLines();
    assert.equal(numbered.length, 20_000);
    const perWorker = new Map<string, number[]>();
    for (const l of numbered) {
      const m = /^(w\d+) line (\d+) (x*)$/.exec(l);
      assert.ok(m, `a whole line: ${JSON.stringify(l)}`);
      assert.equal(m[3]!.length, Number(m[2]) % 97, `not cut: ${l}`);
      perWorker.set(m[1]!, [...(perWorker.get(m[1]!) ?? []), Number(m[2])]);
    }
    assert.equal(perWorker.size, 2);
    for (const seq of perWorker.values())
      assert.deepEqual(seq, [...Array(10_000).keys()], 'in order, none lost');
    const printed = spawnSync(process.execPath, [CLI, 'logs', '-n', '50', '--socket', r.socket], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    assert.equal(printed.status, 0, printed.stderr);
    const lines = printed.stdout.trim().split('\n');
    assert.equal(lines.length, 50);
    for (const l of lines) assert.match(l, /^w\d+ (tick \d+|line \d+ x*|listening)$/);
  });

  test('overseer logs -f follows across a restart', async () => {
    const r = new Run('chatty.cjs', ['--log-prefix'], { LINES: '10' });
    await r.ready(1);
    const follower = node(CLI, ['logs', '-f', '-n', '0', '--socket', r.socket]);
    try {
      await sleep(300);
      await r.restart();
      await follower.line(/^\[worker 1\] w\d+ tick \d+$/, 0, 5_000); // the old worker, before the restart
      await follower.line(/^\[worker 2\] w\d+ listening$/, 0, 5_000); // the new worker's start
      await follower.line(/^\[worker 2\] w\d+ tick \d+$/, 0, 5_000); // the new worker, after it
    } finally {
      await follower.stop(5_000, 'SIGINT');
    }
  });

  test('overseer logs -f into a reader that goes away (| head -1): it ends quietly, with 0', async () => {
    const r = new Run('chatty.cjs', [], { LINES: '10' });
    await r.ready(1);
    // The worker ticks every 50 ms: the line after the first meets the closed pipe.
    const piped = await readerGoesAway(CLI, ['logs', '-f', '--socket', r.socket]);
    assert.notEqual(piped.first, '', 'it printed a line');
    assert.deepEqual([piped.code, piped.signal, piped.stderr], [0, null, '']);
  });

  /** The control API with nothing but `logs` behind it. */
  const logsApi = (logs: LogBuffer) =>
    createApiServer({
      events: new EventEmitter(),
      status: () => ({}),
      restart: () => Promise.reject(new Error('unused')),
      triggerUpdate: () => Promise.reject(new Error('unused')),
      metrics: () => '',
      countDroppedEvents: () => {},
      logs,
    });

  test('a reader that falls behind is told how many lines it missed, and nothing is held for it', async () => {
    const logs = new LogBuffer(10);
    const server = await logsApi(logs);
    const sock = path.join(tmp, 'logs-api.sock');
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      const reader = net.connect(sock);
      let text = '';
      reader.setEncoding('utf8');
      reader.on('data', (d: string) => {
        text += d;
      });
      reader.write('GET /overseer/logs?n=0&follow=1 HTTP/1.1\r\nHost: x\r\n\r\n');
      while (!text.includes('\r\n\r\n')) await sleep(10);
      reader.pause(); // a reader that stops reading
      const total = 60_000;
      const line = 'y'.repeat(200);
      for (let i = 0; i < total; i += 1_000) {
        for (let j = 0; j < 1_000; j++) logs.add(1, 'stdout', `${i + j} ${line}`);
        await sleep(1); // a tick: the stream writes what fits
      }
      reader.resume();
      for (let i = 0; i < 200 && !/"missed":\d+/.test(text); i++) await sleep(20);
      logs.add(1, 'stdout', 'last'); // after the drain: it gets through, after the count
      for (let i = 0; i < 200 && !text.includes('"last"'); i++) await sleep(20);
      reader.destroy();
      // Chunked framing aside, each JSON line is whole.
      const objects = text
        .split(/\r?\n/)
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { seq?: number; missed?: number; text?: string });
      const got = objects.filter((o) => o.seq !== undefined);
      const missed = objects.reduce((n, o) => n + (o.missed ?? 0), 0);
      assert.ok(missed > 0, 'some were missed, and said so');
      assert.equal(got.length + missed, total + 1, `${got.length} seen + ${missed} missed`);
      assert.equal(got.at(-1)?.text, 'last');
    } finally {
      server.close();
    }
  });

  test('a reader of the lines held is told only of those it asked for and missed', () => {
    const logs = new LogBuffer(10);
    for (let i = 1; i <= 5; i++) logs.add(1, 'stdout', `line ${i}`);
    const until = logs.nextSeq; // without follow: the 5 lines held
    const first = logs.read(logs.firstSeq, 1, until);
    assert.equal(first.json.split('\n').filter(Boolean).length, 1);
    for (let i = 6; i <= 105; i++) logs.add(1, 'stdout', `line ${i}`);
    const rest = logs.read(first.next, Number.POSITIVE_INFINITY, until);
    assert.deepEqual({ missed: rest.missed, json: rest.json }, { missed: 4, json: '' });
    assert.ok(rest.next >= until, 'and it is done');
  });

  test('readers that never read hold a bounded share of the backlog, and the buffer counts bytes as sent', async () => {
    const logs = new LogBuffer(1_000);
    // Control characters go out escaped, six bytes each: 4,000 of them are 24 KB of JSON.
    for (let i = 0; i < 1_000; i++) logs.add(1, 'stdout', '\u0001'.repeat(4_000));
    const held = logs.read(logs.firstSeq, Number.POSITIVE_INFINITY).json;
    const jsonBytes = Buffer.byteLength(held);
    assert.ok(jsonBytes <= 8 * 2 ** 20, `the buffer holds ${(jsonBytes / 2 ** 20).toFixed(1)} MiB of JSON`);
    const server = await logsApi(logs);
    const served: net.Socket[] = [];
    server.on('connection', (s: net.Socket) => served.push(s));
    const sock = path.join(tmp, 'logs-readers.sock');
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    const readers: net.Socket[] = [];
    try {
      // A whole backlog, read: every line held, in order.
      const whole = await ipcRequest(sock, 'GET', '/overseer/logs?n=100000', 20_000);
      const seqs = String(whole.body)
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq);
      assert.deepEqual(
        seqs,
        [...Array(logs.nextSeq - logs.firstSeq).keys()].map((i) => logs.firstSeq + i),
      );
      global.gc?.();
      const rss0 = process.memoryUsage.rss();
      for (let i = 0; i < 24; i++) {
        const r = net.connect(sock);
        r.on('error', () => {});
        r.pause(); // never reads
        r.write(`GET /overseer/logs?n=100000${i % 2 ? '&follow=1' : ''} HTTP/1.1\r\nHost: x\r\n\r\n`);
        readers.push(r);
      }
      while (served.length < 25) await sleep(10);
      await sleep(1_000); // what the master writes for them, it has written by now
      for (let i = 0; i < 100; i++) logs.add(1, 'stdout', 'y'.repeat(200)); // and the followers hear more
      await sleep(500);
      const queued = served.reduce((n, s) => n + s.writableLength, 0);
      const grown = (process.memoryUsage.rss() - rss0) / 2 ** 20;
      console.log(`24 readers: ${(queued / 2 ** 20).toFixed(1)} MiB queued, RSS +${grown.toFixed(0)} MiB`);
      // Each reader holds what its socket's buffer takes and a batch, not the backlog (~8 MiB each).
      assert.ok(
        queued < 24 * 256 * 1024,
        `${(queued / 2 ** 20).toFixed(1)} MiB queued for readers that never read`,
      );
      assert.ok(grown < 100, `RSS grew by ${grown.toFixed(0)} MiB for 24 readers that never read`);
      const status = await ipcRequest(sock, 'GET', '/overseer/logs?n=1', 10_000);
      assert.equal(status.status, 200, 'others are served meanwhile');
    } finally {
      for (const r of readers) r.destroy();
      server.close();
    }
  });
});
