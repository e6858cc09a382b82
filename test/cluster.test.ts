// overseer/cluster keeps node:cluster's semantics (each scenario in CommonJS and ESM), and
// adds what node:cluster lacks: a primary that never accepts, a port that stays open while
// no worker is alive, and a hitless reload().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CLUSTER_PRELOAD as PRELOAD,
  CLUSTER_PRELOAD_ESM as PRELOAD_ESM,
  preloadArgs,
} from '../src/contract/env.js';
import { type AppEvent, AppProcess } from './support/app.js';
import { Example } from './support/example.js';
import { freePort, get } from './support/http.js';
import { describeErrors, startLoad } from './support/load.js';
import { CLI, fixture, repoPath } from './support/paths.js';
import { exitedNormally, node, processAlive, stopAll } from './support/process.js';

const SCRIPTS = { cjs: fixture('cluster/cjs.cjs'), esm: fixture('cluster/esm.js') };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cluster-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function scenario(
  flavor: 'cjs' | 'esm',
  name: string,
  env: NodeJS.ProcessEnv = {},
  args: string[] = [],
): AppProcess {
  return new AppProcess({}, { script: SCRIPTS[flavor], args: [name, ...args], env });
}

/** The scenario's primary exits by itself, as a node:cluster primary with nothing left does. */
async function exitsByItself(a: AppProcess): Promise<void> {
  const timer = setTimeout(() => a.kill(), 10_000);
  const { code, signal } = await a.exited;
  clearTimeout(timer);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${a.stderr.join('\n')}`);
}

const only = (a: AppProcess, event: string): AppEvent => {
  const e = a.events.find((x) => x.event === event);
  assert.ok(e, `no ${event} event: ${JSON.stringify(a.events)}`);
  return e;
};

for (const flavor of ['cjs', 'esm'] as const) {
  describe(`node:cluster semantics (${flavor === 'cjs' ? "require('overseer/cluster')" : "import cluster from 'overseer/cluster'"})`, () => {
    test('fork, the events with their arguments and states, send both ways, kill', async () => {
      const a = scenario(flavor, 'events');
      await a.nth('seen', 1);
      await exitsByItself(a);
      assert.equal(only(a, 'primary').flavor, flavor);
      const forked = only(a, 'forked');
      assert.deepEqual(
        { ...forked, event: undefined, pid: undefined },
        {
          event: undefined,
          pid: undefined,
          id: 1,
          instance: true,
          state: 'none',
          listed: true,
          syncFork: 0, // 'fork' comes on the next tick, as in node:cluster
          isPrimary: true,
          isMaster: true,
          isWorker: false,
          policy: 2,
          SCHED_RR: 2,
          SCHED_NONE: 1,
        },
      );
      const report = only(a, 'worker-report');
      assert.deepEqual(
        { ...report, event: undefined, pid: undefined },
        {
          event: undefined,
          pid: undefined,
          id: 1,
          state: 'online',
          isWorker: true,
          isPrimary: false,
          processIsSelf: true,
          foo: 'bar', // fork(env) adds to process.env
          nodeUniqueId: false,
          overseerEnv: [], // read once, then gone: the program's own children are not workers
          connected: true,
          isDead: false,
        },
      );
      const listening = only(a, 'listening').address as {
        addressType: number;
        address: string;
        port: number;
      };
      assert.equal(listening.addressType, 4);
      assert.equal(listening.address, '127.0.0.1');
      assert.ok(listening.port > 0);
      assert.match(String(only(a, 'served').body), /^worker \d+/);
      assert.deepEqual(only(a, 'pong').m, { pong: 1 });
      const exit = only(a, 'exit');
      assert.deepEqual(
        { ...exit, event: undefined, pid: undefined },
        {
          event: undefined,
          pid: undefined,
          code: null,
          signal: 'SIGTERM', // kill() is destroy(): SIGTERM by default
          sameAsProcess: true,
          isDead: true,
          isConnected: false,
          exitedAfterDisconnect: false,
          inWorkers: 0,
        },
      );
      const seen = only(a, 'seen').seen as Array<{ on: string; name: string; state: string; args: number }>;
      // node:cluster's order; every listener saw the worker (`same`/`self`), in its state.
      for (const s of seen)
        assert.ok((s as { same?: boolean; self?: boolean }).same ?? (s as { self?: boolean }).self);
      assert.deepEqual(
        seen.filter((s) => s.name !== 'message').map((s) => `${s.on}:${s.name}:${s.state}:${s.args}`),
        [
          'cluster:fork:none:1',
          'worker:online:online:0',
          'cluster:online:online:1',
          'worker:listening:listening:1',
          'cluster:listening:listening:2',
          'worker:disconnect:disconnected:0',
          'cluster:disconnect:disconnected:1',
          'worker:exit:dead:2',
          'cluster:exit:dead:3',
        ],
      );
      // The program's messages only (overseer's own are internal): the report and the pong.
      assert.deepEqual(
        seen.filter((s) => s.name === 'message').map((s) => `${s.on}:${s.args}`),
        ['cluster:3', 'worker:2', 'cluster:3', 'worker:2'],
      );
    });

    test("the worker's program sees nothing of the worker contract: no OVERSEER_* variable, no preload", async () => {
      const a = scenario(flavor, 'contract');
      const report = await a.nth('report', 1);
      await exitsByItself(a);
      assert.deepEqual(report.overseerVars, []);
      assert.deepEqual(
        (report.execArgv as string[]).filter((f) => f.includes(PRELOAD) || f.includes(PRELOAD_ESM)),
        [],
      );
    });

    test('setupPrimary: cumulative settings, the setup event, args, execArgv, silent; a rejected call changes nothing', async () => {
      const a = scenario(flavor, 'setup');
      await a.nth('report', 1);
      await exitsByItself(a);
      const r = only(a, 'report') as AppEvent & {
        setups: Array<Record<string, unknown>>;
        settings: Record<string, unknown>;
        stdout: string;
        code: number;
        argv1: string;
        rejected: unknown;
      };
      assert.equal(r.rejected, 'ERR_OVERSEER_INVALID_CONFIG');
      assert.equal(r.setups.length, 3, 'each setupPrimary() that passes (fork() calls it too) emits setup');
      assert.deepEqual(r.setups[0], { args: ['setup', 'a1'], exec: r.argv1, execArgv: [], silent: true });
      assert.deepEqual(r.settings, {
        args: ['setup', 'a1'],
        exec: r.argv1,
        execArgv: ['--no-deprecation'],
        silent: true,
      });
      // silent: the worker's stdout is a pipe to the primary.
      const child = JSON.parse(r.stdout.trim()) as { argv: string[]; execArgv: string[] };
      assert.deepEqual(child.argv, ['setup', 'a1']);
      assert.equal(child.execArgv[0], '--no-deprecation');
      assert.equal(r.code, 0, 'a worker that disconnects itself exits 0');
    });

    test('listen(0) shares one port across workers; a unix socket is shared too', async () => {
      const sock = path.join(tmp, `${flavor}.sock`);
      const a = scenario(flavor, 'shared', { SOCK: sock });
      await a.nth('disconnected', 1);
      await exitsByItself(a);
      const r = only(a, 'report') as AppEvent & {
        listened: Array<{ id: number; address: { addressType: number; address: string; port: number } }>;
        workersServing: number;
        viaPipe: string;
      };
      const of = (id: number) => r.listened.filter((l) => l.id === id).map((l) => l.address);
      const [one, two] = [of(1), of(2)];
      assert.equal(one.length, 3);
      // The n-th listen(0) of each worker is the same port; two listen(0)s in one worker are two.
      assert.deepEqual(
        one.map((x) => x.port),
        two.map((x) => x.port),
      );
      assert.notEqual(one[0]!.port, one[1]!.port);
      assert.deepEqual(one[2], { addressType: -1, address: sock, port: -1 });
      assert.equal(r.workersServing, 2, 'both workers accept on the shared port');
      assert.match(r.viaPipe, /^worker \d+/);
      assert.equal(only(a, 'disconnected').left, 0);
    });

    test('worker.disconnect(): out of cluster.workers at once; it finishes its request, then exits 0', async () => {
      const a = scenario(flavor, 'disconnect');
      await a.nth('report', 1);
      await exitsByItself(a);
      const r = only(a, 'report');
      assert.deepEqual(r.timeline, [
        'disconnect() listed=false state=listening',
        '300ms later dead=false', // alive while it holds a connection
        'response true',
        'disconnect',
        'exit',
      ]);
      assert.deepEqual([r.code, r.signal, r.exitedAfterDisconnect], [0, null, true]);
    });

    test('cluster.disconnect(cb): cb once every worker is gone, not only disconnected', async () => {
      const a = scenario(flavor, 'disconnectAll');
      await a.nth('report', 1);
      await exitsByItself(a);
      const { dead, left } = only(a, 'report');
      assert.deepEqual({ dead, left }, { dead: true, left: 0 });
    });

    test("a fork whose spawn fails: 'error', then 'disconnect', out of cluster.workers, and cluster.disconnect(cb) calls back, as Node's", async () => {
      const a = scenario(flavor, 'spawnFails', { MISSING_DIR: path.join(tmp, 'no-such-dir') });
      const r = await a.nth('report', 1);
      await a.nth('disconnected', 1, 5_000); // before: never, and the worker stayed listed for ever
      await exitsByItself(a);
      // node:cluster's order: the child's 'error', 'fork' (on the next tick), then the channel's
      // end; no 'exit' (the process never ran). Each entry: worker's state, still listed.
      assert.deepEqual(r.seen, [
        'worker:error:ENOENT:none',
        'cluster:fork:true:none:true',
        'worker:disconnect:disconnected:false',
        'cluster:disconnect:true:disconnected:false',
      ]);
      assert.deepEqual(
        [r.workers, r.isDead, r.isConnected, r.exitedAfterDisconnect],
        [[], true, false, false],
      );
    });

    for (const how of ['destroy', 'disconnect']) {
      test(`cluster.worker.${how}() in the worker: it exits 0, exitedAfterDisconnect`, async () => {
        const a = scenario(flavor, 'leave', {}, [how]);
        await a.nth('report', 1);
        await exitsByItself(a);
        const r = only(a, 'report');
        assert.deepEqual([r.code, r.signal, r.exitedAfterDisconnect, r.state], [0, null, true, 'dead']);
      });
    }

    test('the rest of the surface: unbound functions, Worker(), settings, stdio, cwd, early messages, pipe modes', async () => {
      const cwd = fs.mkdtempSync(path.join(tmp, `misc-${flavor}-`));
      const a = scenario(flavor, 'misc', { CWD: cwd });
      await a.nth('report', 1);
      await exitsByItself(a);
      const r = only(a, 'report');
      assert.deepEqual(r.settingsBefore, {});
      assert.deepEqual(r.bare, { id: 0, state: 'none', process: true, ead: 'undefined' });
      assert.deepEqual(r.called, { id: 5, instance: true });
      assert.equal(r.sendReturned, true);
      assert.equal(r.connectedAtFork, true);
      // A bigint survives: settings.serialization set directly is used by fork().
      assert.deepEqual(r.worker, { early: 'bigint', cwd, a: '1' });
      assert.equal(r.fd4, 'via fd 4');
      assert.equal(r.pipeMode, '777', 'readableAll/writableAll reach the socket the primary made');
      assert.equal(r.left, 0);
    });

    test("listen('@name') in the primary's directory: that file, with readableAll", async () => {
      const cwd = fs.mkdtempSync(path.join(tmp, `at-${flavor}-`));
      const a = scenario(flavor, 'atName', { CWD: cwd });
      await a.nth('report', 1);
      await exitsByItself(a);
      assert.deepEqual(only(a, 'report'), {
        event: 'report',
        pid: a.pid,
        listening: true,
        address: '@at.sock', // server.address(): the path as the program gave it, as in Node
        isSocket: true,
        readableAll: true,
      });
    });

    test('cluster.disconnect() at once, while the worker asks for its socket: everything ends', async () => {
      const a = scenario(flavor, 'disconnectAtOnce');
      await exitsByItself(a);
      assert.equal(only(a, 'report').left, 0);
      assert.deepEqual([only(a, 'exit').code, only(a, 'exit').ead], [0, true]);
    });

    test("listen errors are Node's own: EADDRINUSE, ERR_SOCKET_BAD_PORT, ERR_SERVER_ALREADY_LISTEN", async () => {
      const a = scenario(flavor, 'listenErrors', { PORT: String(await freePort()) });
      await a.nth('report', 1);
      await exitsByItself(a);
      const r = only(a, 'report');
      assert.equal((r.inUse as { code: string }).code, 'EADDRINUSE');
      assert.equal(r.badPort, 'ERR_SOCKET_BAD_PORT');
      assert.equal(r.twice, 'ERR_SERVER_ALREADY_LISTEN');
      assert.deepEqual(r.sameWorker, { code: 'EADDRINUSE', syscall: 'bind', errno: 'number' });
      assert.equal(r.relisten, 'listening');
    });

    test('worker.send(message, handle): a net.Server and a net.Socket reach the worker, in order, callbacks called', async () => {
      const a = scenario(flavor, 'handles');
      await a.nth('report', 1);
      await exitsByItself(a);
      const r = only(a, 'report');
      assert.deepEqual(r.order, ['first', 'server listening=true', 'after']);
      assert.equal(r.viaServer, `served by ${r.workerPid}`);
      assert.equal(r.viaSocket, `socket in ${r.workerPid}`);
      assert.deepEqual(r.callbacks, ['first true', 'server true', 'after true', 'socket true']);
    });
  });
}

test("named and namespace imports: node:cluster's named exports and reload(), each right on its side and callable unbound", async () => {
  const a = new AppProcess({}, { script: fixture('cluster/named.js') });
  await exitsByItself(a);
  // node:cluster's named exports in a primary and in a worker (less their _-prefixed ones),
  // overseer's reload(), the default export and require()'s 'module.exports'.
  const keys = [
    ...['default', 'module.exports', 'reload', 'worker', 'isMaster', 'isPrimary', 'isWorker', 'Worker'],
    ...['SCHED_NONE', 'SCHED_RR', 'schedulingPolicy', 'settings', 'workers'],
    ...['disconnect', 'fork', 'setupMaster', 'setupPrimary'],
  ].sort();
  const same = {
    isPrimary: true,
    Worker: true,
    worker: true,
    workers: true,
    settings: true,
    schedulingPolicy: true,
  };
  assert.deepEqual(only(a, 'primary'), {
    event: 'primary',
    pid: a.pid,
    keys,
    isPrimary: [true, true, true, false],
    sameAsDefault: same,
    sched: [1, 2, 1, 2],
    functions: Array(5).fill('function'),
    sameFunctions: true,
    workerIsWorker: false,
  });
  assert.deepEqual(only(a, 'forked'), {
    event: 'forked',
    pid: a.pid,
    inWorkers: true,
    isWorker: true,
    id: 1,
  });
  const { pid: _, ...worker } = only(a, 'worker');
  assert.deepEqual(worker, {
    event: 'worker',
    keys,
    isPrimary: [false, false, false, true],
    sameAsDefault: same,
    sched: [1, 2, null, null],
    // As in node:cluster's worker, which has none of them.
    functions: Array(5).fill('undefined'),
    sameFunctions: true,
    workerId: 1,
    workerIsWorker: true,
  });
  assert.deepEqual([only(a, 'reloaded').ok, only(a, 'reloaded').replaced], [true, 1]);
  assert.equal(only(a, 'done').left, 0);
});

test('an abstract unix socket (Linux): both workers share it, as the name it is', {
  skip: process.platform !== 'linux' && 'Linux only',
}, async () => {
  const name = `overseer-test-cluster-${process.pid}`;
  const a = scenario('esm', 'shared', { ABSTRACT_SOCK: name });
  await a.nth('disconnected', 1);
  await exitsByItself(a);
  const r = only(a, 'report') as AppEvent & {
    listened: Array<{ id: number; address: unknown }>;
    viaPipe: string;
  };
  const pipe = { addressType: -1, address: `\0${name}`, port: -1 };
  const onPipe = r.listened.filter((l) => (l.address as { port: number }).port === -1);
  assert.deepEqual(
    onPipe.sort((x, y) => x.id - y.id),
    [1, 2].map((id) => ({ id, address: pipe })),
  );
  assert.match(r.viaPipe, /^worker \d+/);
});

for (const how of ['disconnect', 'destroy']) {
  test(`primary and worker let go at once (worker.disconnect() and cluster.worker.${how}()), 10 times: each worker exits 0, exitedAfterDisconnect`, async () => {
    const a = scenario('esm', 'leaveBoth', {}, [how]);
    await a.nth('report', 1);
    await exitsByItself(a);
    const clean = { code: 0, signal: null, exitedAfterDisconnect: true };
    assert.deepEqual(only(a, 'report').exits, Array(10).fill(clean), `stderr: ${a.stderr.join('\n')}`);
  });
}

test('the preload is a --require, or an --import after any loader hooks (flags or NODE_OPTIONS)', () => {
  const req = ['--require', PRELOAD];
  const imp = ['--import', PRELOAD_ESM];
  assert.deepEqual(preloadArgs([]), req);
  assert.deepEqual(preloadArgs(['--require', 'x.cjs', '--max-old-space-size=64']), req);
  assert.deepEqual(preloadArgs(['--import=tsx']), imp);
  assert.deepEqual(preloadArgs(['--import', 'tsx']), imp);
  assert.deepEqual(preloadArgs(['--loader=ts-node/esm']), imp);
  assert.deepEqual(preloadArgs(['--experimental-loader', 'x.mjs']), imp);
  assert.deepEqual(preloadArgs([], '--enable-source-maps  --import=@opentelemetry/x'), imp);
  assert.deepEqual(preloadArgs([], '--importance'), req);
});

test('a CommonJS program whose workers register loader hooks (--import) works: the preload comes after the hooks', async () => {
  // Node 22 cannot require() an ES module once hooks are registered after a --require
  // preload has required one; the primary then preloads with --import, after the program's.
  // The module recorder is such a hook (module.register): its hook logs each module a worker
  // loads to worker-<pid>.esm (the .json comes at exit, which kill()'s SIGTERM skips).
  const recorder = repoPath('test/support/record-modules.mjs');
  const dir = fs.mkdtempSync(path.join(tmp, 'hooked-'));
  const a = new AppProcess(
    {},
    {
      script: SCRIPTS.cjs,
      args: ['events'],
      nodeArgs: [`--import=${recorder}`],
      env: { RECORD_MODULES_DIR: dir },
    },
  );
  await a.nth('seen', 1);
  await exitsByItself(a);
  const report = only(a, 'worker-report');
  assert.equal(report.isWorker, true);
  assert.deepEqual(report.overseerEnv, []);
  assert.match(String(only(a, 'served').body), /^worker \d+/);
  assert.deepEqual(only(a, 'pong').m, { pong: 1 });
  const workers = fs.readdirSync(dir).filter((f) => /^worker-\d+\.esm$/.test(f));
  assert.equal(workers.length, 1, `the hook ran in the worker: ${fs.readdirSync(dir).join(', ')}`);
});

test('every worker dies with its primary: within 1 s, its exit handlers run', async () => {
  const exitFile = path.join(tmp, 'exits');
  const a = scenario('cjs', 'orphans', { EXIT_FILE: exitFile });
  const { pids } = (await a.nth('pids', 1)) as AppEvent & { pids: number[] };
  assert.equal(pids.length, 2);
  a.kill();
  await a.exited;
  await exitedNormally(pids, exitFile);
});

describe('a stop signal to the primary', () => {
  test('a program with no handler of its own: its workers drain (a request in flight is served), then 0', async () => {
    const a = scenario('cjs', 'stops');
    const { port } = (await a.nth('listening', 1)) as AppEvent & { port: number };
    const slow = get(port, '/?ms=500');
    await sleep(100);
    a.signal('SIGTERM');
    assert.match((await slow).body, /^worker \d+/, 'the request in flight was served');
    const { code, signal } = await a.waitExit(10_000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.stderr.join('\n'));
    assert.equal(a.count('exit'), 2);
  });

  test('a worker that had to be killed at terminateTimeout: 1, and the warning says why', async () => {
    const a = scenario('esm', 'stops', { LINGER: 'busy', TERMINATE_TIMEOUT: '500' });
    await a.nth('listening', 1);
    a.signal('SIGTERM');
    assert.equal((await a.waitExit(10_000)).code, 1);
    await a.until(() => a.ended, 5_000, 'the end of its output');
    assert.ok(
      a.stderr.some((l) =>
        /OVERSEER_EXIT_FAILURE.*the master exits with 1: worker \d+ \(pid \d+\) was SIGKILLed/.test(l),
      ),
      a.stderr.join('\n'),
    );
  });

  test('a worker that a timer keeps alive ends once drained, 0, as when a node:cluster primary goes', async () => {
    const a = scenario('cjs', 'stops', { LINGER: 'timer', TERMINATE_TIMEOUT: '20000' });
    await a.nth('listening', 1);
    a.signal('SIGTERM');
    // Before: the workers lived until terminateTimeout (20 s) and were SIGKILLed.
    const { code, signal } = await a.waitExit(10_000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.stderr.join('\n'));
    assert.deepEqual(
      a.events.filter((e) => e.event === 'exit').map((e) => [e.code, e.signal]),
      [
        [0, null],
        [0, null],
      ],
    );
  });

  test("a stop while a reload's old worker still drains: it ends once drained too, 0", async () => {
    const a = scenario('cjs', 'stops', { LINGER: 'timer', TERMINATE_TIMEOUT: '20000', WORKERS: '1' });
    const { port } = (await a.nth('listening', 1)) as AppEvent & { port: number };
    const slow = get(port, '/?ms=2000'); // the old worker drains until it is answered
    await sleep(200);
    a.signal('SIGUSR2');
    await sleep(800); // the new worker is ready, the old one drains (or, on a slow host, a stop
    // reaches it before the reload does: it ends the same way)
    a.signal('SIGTERM');
    assert.match((await slow).body, /^worker \d+/);
    const { code, signal } = await a.waitExit(10_000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.stderr.join('\n'));
  });

  test("with a reader that lags: the primary exits only once the program's last lines are out", async () => {
    // Each worker's 'exit' prints 300 lines of 1 KiB, more than a pipe holds; the primary's
    // stdout is read only 400 ms after the signal (a busy log shipper, `| tee` to a slow disk).
    // Silent workers: ones that share the primary's stdout leave it blocking as they exit (Node
    // restores the flags of its stdio at exit), which would hide a loss.
    const a = scenario('esm', 'stops', { GOODBYE_LINES: '300', SILENT: '1' });
    await a.nth('listening', 1);
    a.child.stdout!.pause();
    a.signal('SIGTERM');
    await sleep(400);
    a.child.stdout!.resume();
    const { code, signal } = await a.waitExit(10_000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.stderr.join('\n'));
    await a.until(() => a.ended, 5_000, 'the end of its output');
    assert.deepEqual({ exits: a.count('exit'), goodbyes: a.count('goodbye') }, { exits: 2, goodbyes: 600 });
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    test(`with signal-exit loaded (an exit hook, not a stop of its own), ${sig} drains as for a program with no handler, and the hook runs at exit`, async () => {
      const file = path.join(tmp, `exit-hook-${sig}`);
      const a = scenario('esm', 'stops', { EXIT_HOOK_FILE: file });
      const { pids } = (await a.nth('listening', 1)) as AppEvent & { pids: number[] };
      a.signal(sig);
      // Before: overseer took signal-exit's listener for the program's own stop, signal-exit
      // waited for overseer's to go, and nothing stopped the primary.
      const { code, signal } = await a.waitExit(10_000);
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, a.stderr.join('\n'));
      assert.deepEqual(
        a.events.filter((e) => e.event === 'exit').map((e) => [e.code, e.signal]),
        [
          [0, null],
          [0, null],
        ],
        'both workers drained',
      );
      assert.deepEqual(pids.filter(processAlive), []);
      assert.deepEqual(fs.readFileSync(file, 'utf8'), `${JSON.stringify({ code: 0, signal: null })}\n`);
    });

  for (const how of ['on', 'once'])
    test(`a program that handles the signal itself (process.${how}, before its first fork) keeps its own stop, as under node:cluster`, async () => {
      const a = scenario('cjs', 'stops', { OWN_STOP: how });
      const { pids } = (await a.nth('listening', 1)) as AppEvent & { pids: number[] };
      a.signal('SIGTERM');
      await a.nth('own-stop', 1);
      await sleep(150);
      assert.deepEqual(pids.filter(processAlive), pids, 'overseer did not stop its workers');
      const { code, signal } = await a.waitExit(10_000);
      assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'it ended when its workers were gone');
    });
});

describe('SIGUSR2 to the primary', () => {
  test('a program with its own SIGUSR2 handler (its own rolling restart) keeps it: no reload of overseer beside it', async () => {
    const a = scenario('cjs', 'usr2', { OWN_USR2: '1' });
    await a.nth('listening', 1);
    a.signal('SIGUSR2');
    const report = await a.nth('report', 1, 20_000);
    // Before: overseer reloaded too, and the program ended with 3 or 4 workers of 5 or 6 forks.
    assert.deepEqual({ forks: report.forks, workers: report.workers }, { forks: 4, workers: 2 });
    await a.stop();
  });

  test("with signal-exit's SIGUSR2 listener alone beside overseer's (not the program's own), it reloads", async () => {
    const a = scenario('esm', 'usr2', { EXIT_HOOK_FILE: path.join(tmp, 'exit-hook-usr2') });
    await a.nth('listening', 1);
    a.signal('SIGUSR2');
    await a.until(() => a.count('exit') >= 2, 20_000, "the reload's retired workers");
    await sleep(300);
    assert.equal(a.count('fork'), 4);
    assert.deepEqual(
      a.events.filter((e) => e.event === 'exit').map((e) => e.exitedAfterDisconnect),
      [true, true],
    );
    await a.stop();
  });
});

test('the primary holds no fork(env) of a worker that is gone (it exited, was killed, or disconnected)', async () => {
  const a = scenario('esm', 'envs');
  const r = await a.nth('report', 1, 30_000);
  // Before: every env, for the primary's whole life (300 forks with a 50 KB env: +16 MB).
  assert.deepEqual({ jobs: r.jobs, retained: r.retained }, { jobs: 12, retained: 0 });
  await exitsByItself(a);
});

test("the primary keeps the program's process title (its own, or node's command line for `pgrep -f`), as node:cluster's does", async () => {
  for (const title of ['my-primary', '']) {
    const a = scenario('cjs', 'title', { TITLE: title });
    const r = await a.nth('report', 1);
    await exitsByItself(a);
    // Before: 'overseer: <name>' from the first setupPrimary() on, over the program's own.
    assert.deepEqual(r.after, r.before);
    if (title !== '') assert.equal((r.after as { title: string }).title, title);
    else if (process.platform === 'linux')
      assert.match(String((r.after as { cmdline: string }).cmdline), /cjs\.cjs title$/);
  }
});

test('a crash loop with no live worker: the port stays open, connections wait and are all served', async () => {
  const port = await freePort();
  const flag = path.join(tmp, 'crash');
  const a = scenario('cjs', 'crashes', { PORT: String(port), CRASH_FLAG: flag });
  await a.nth('listening', 1);
  // From now on every new worker dies before it listens; the serving one dies on /crash.
  fs.writeFileSync(flag, '');
  // The worker exits in the middle of this request: it fails, as it must.
  await assert.rejects(get(port, '/crash'));
  await a.until(() => a.count('exit') >= 3, 10_000, 'the crash loop');
  // No worker is alive to accept, yet nothing is refused: these wait in the kernel's queue.
  const requests = Array.from({ length: 20 }, () => get(port, '/'));
  await sleep(300);
  assert.equal(a.count('listening'), 1, 'no worker listened during the crash loop');
  fs.rmSync(flag);
  const replies = await Promise.all(requests);
  assert.equal(replies.length, 20);
  for (const r of replies) assert.match(r.body, /^worker \d+/);
  await a.stop();
});

test('a reload whose new worker fails leaves the old one serving; the next reload succeeds', async () => {
  const flag = path.join(tmp, 'fail');
  const a = scenario('esm', 'reloadFails', { FAIL_FLAG: flag });
  await a.nth('report', 1);
  await exitsByItself(a);
  const r = only(a, 'report');
  assert.deepEqual(r.failed, { ok: false, code: 'ERR_OVERSEER_WORKER_EXITED', replaced: 0 });
  assert.match(String(r.body), /^worker \d+/);
  assert.deepEqual(r.ok, { ok: true, replaced: 1 });
  assert.notEqual(r.after, r.body, 'the new worker serves after the good reload');
  // The reload's failed worker and the retired one are not crashes the program must answer.
  const exits = a.events.filter((e) => e.event === 'exit');
  assert.deepEqual(exits.map((e) => [e.id, e.exitedAfterDisconnect]).sort(), [
    [1, true],
    [2, true],
    [3, true],
  ]);
  assert.ok(
    a.stderr.some((l) => l.includes('OVERSEER_RESTART_FAILED')),
    'the failed reload warns',
  );
});

/** `overseer <args>`, without blocking this process (the load runs in it); its JSON answer. */
async function cli(...args: string[]): Promise<{ code: number | null; json: unknown }> {
  const child = node(CLI, [...args, '--json'], { label: `overseer ${args[0]}` });
  const timer = setTimeout(() => child.kill(), 60_000);
  const { code } = await child.exited;
  clearTimeout(timer);
  await child.until(() => child.ended, 5_000, 'the end of its output');
  const stdout = child.lines.join('\n');
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    json = { stdout, stderr: child.stderr.join('\n') };
  }
  return { code, json };
}

/** The control socket of the primary with this pid, from `overseer ls`. */
async function socketOf(pid: number): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const masters = (await cli('ls')).json as Array<{ socket: string; status: { pid: number } }>;
    const found = masters.find((m) => m.status.pid === pid);
    if (found) return found.socket;
    await sleep(100);
  }
  throw new Error(`no control socket for pid ${pid}`);
}

for (const workers of [2, 4]) {
  test(`reload() of a plain node:cluster app, ${workers} workers, under keep-alive load: 0 failed`, async () => {
    const e = new Example('examples/cluster/server.cjs', { env: { WORKERS: String(workers) } });
    try {
      const port = Number((await e.line(/listening on port (\d+)/))[1]);
      for (let i = 1; i <= workers; i++) await e.line(new RegExp(`^worker ${i} listening`));
      const socket = await socketOf(e.pid);
      const load = startLoad({ port, concurrency: 16, keepAlive: true, maxMs: 60_000 });
      await sleep(300);
      // Three through the control socket (`overseer restart`), one by SIGUSR2.
      for (let i = 0; i < 3; i++) {
        const r = await cli('restart', '-s', socket);
        assert.equal(r.code, 0, JSON.stringify(r.json));
        assert.deepEqual(
          [(r.json as { ok: boolean }).ok, (r.json as { replaced: number }).replaced],
          [true, workers],
        );
        await e.settle(workers);
      }
      e.signal('SIGUSR2');
      for (let i = 0; i < 100; i++) {
        if (((await cli('status', '-s', socket)).json as { restarts: number }).restarts === 4) break;
        await sleep(100);
      }
      await e.settle(workers);
      const r = await load.stop();
      const status = (await cli('status', '-s', socket)).json as { restarts: number; workers: unknown[] };
      assert.equal(status.restarts, 4);
      assert.equal(status.workers.length, workers);
      assert.equal(r.failed, 0, describeErrors(r));
      assert.ok(r.ok > 500, `too little load got through (${r.ok})`);
      assert.ok(r.pids.size > workers, 'the reloads replaced the workers that served');
      assert.deepEqual(
        e.stderr.filter((l) => /Warning|died/.test(l)),
        [],
        'no warnings, and no retired worker taken for a crash',
      );
      assert.deepEqual(
        e.lines.filter((l) => /died/.test(l)),
        [],
      );
    } finally {
      await e.stop();
    }
  });
}
