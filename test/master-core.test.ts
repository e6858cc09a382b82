// The master core, and run()'s master and the cluster primary composed on it, without a
// process: a fake OS (sockets, the control socket's platform, the handoff's channel), fake
// workers and a fake clock, as tableflip tests its upgrader with fake processes. The status's
// JSON shape (one for both masters), a restart, the shutdown's exit code, the signal handlers
// coming and going, a control socket that cannot listen (one warning; the master runs on), and
// a new master that carries on the counters its old master handed over.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ClusterPrimary } from '../src/cluster/primary.js';
import { resolveConfig } from '../src/config.js';
import { Master } from '../src/current-master.js';
import { appIdentity } from '../src/master/app-identity.js';
import type { Binary } from '../src/master/binary.js';
import { MasterCore, type OwnStatus } from '../src/master/core.js';
import type { HandoffMessage } from '../src/master/handoff/protocol.js';
import type { WorkerLaunch } from '../src/master/launch.js';
import { MasterProcess } from '../src/master/master-process.js';
import { ProgramHash } from '../src/master/program-hash.js';
import type { ProcessUsage } from '../src/os/process-usage.js';
import type { HandoffConnection, Platform, SocketOptions } from '../src/os/types.js';
import { fakeIpc, fakePlatform, fakeSockets, ipcAddress } from './support/fake-platform.js';
import { FakeClock, FakeWorker, settle } from './support/fake-workers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-core-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** GET /overseer/status's fields, in order: its JSON shape, the same for both masters. */
const STATUS_KEYS = [
  'pid',
  'binHash',
  'binPath',
  'workerId',
  'slaveID',
  'restarting',
  'restartedAt',
  'restarts',
  'restartFailures',
  'crashes',
  'eventsDropped',
  'startedAt',
  'addresses',
  'workers',
  'ipcPath',
  'fetcher',
  'version',
  'name',
  'appDir',
  'cpuPercent',
  'cpuSeconds',
  'rssBytes',
];

// These tests emit the signals on this process. Node 24's test runner turns on the diagnostic
// report for SIGUSR2, whose handler is a process listener too: an emitted SIGUSR2 wrote a
// report.*.json into the repository (and broke `biome check .`).
if (process.report) process.report.reportOnSignal = false;
const SIGNALS = ['SIGUSR2', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const;
const listenerCounts = (): number[] => SIGNALS.map((s) => process.listenerCount(s));

/** The codes of the OverseerWarnings emitted until stop(). */
function recordWarnings(): { codes: string[]; stop(): void } {
  const codes: string[] = [];
  const on = (w: Error & { code?: string }): void => {
    if (w.name === 'OverseerWarning') codes.push(w.code ?? '');
  };
  process.on('warning', on);
  return { codes, stop: () => process.off('warning', on) };
}

/** One request to a control socket; the answer's status and JSON. */
function ask(socketPath: string, method: 'GET' | 'POST', urlPath: string) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const headers = method === 'POST' ? { 'Content-Length': 0 } : {};
    const req = http.request({ socketPath, method, path: urlPath, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function coreOn(platform: Platform, own: Partial<OwnStatus> = {}) {
  const clock = new FakeClock();
  const workers: FakeWorker[] = [];
  const core: MasterCore = new MasterCore({
    platform,
    clock,
    supervisor: {
      workers: 2,
      restartMode: 'overlap',
      terminateTimeout: 5_000,
      noRestart: false,
      forwardSignals: true,
    },
    seams: {
      spawn: (slot, id) => {
        const w = new FakeWorker(id, slot, clock);
        workers.push(w);
        return w;
      },
    },
    ownStatus: () => ({
      binHash: 'h1',
      binPath: '/app.js',
      addresses: ['127.0.0.1:3000'],
      fetcher: null,
      ...own,
    }),
    api: {
      restart: (reason) => core.supervisor.restart(reason),
      triggerUpdate: () => Promise.reject(new Error('no fetcher')),
    },
  });
  return { core, clock, workers };
}

/** Workers as `overseer run` would start them, faked: each is ready right after it starts, unless told. */
function fakeLaunch(clock: FakeClock, workers: FakeWorker[], autoReady = true) {
  const owned: boolean[] = [];
  const launch: WorkerLaunch = {
    spawn: (slot, id) => {
      const w = new FakeWorker(id, slot, clock);
      workers.push(w);
      if (autoReady) setImmediate(() => w.becomeReady());
      return w;
    },
    addresses: () => ['unix:/app.sock'],
    logs: undefined,
    forwardSignals: true,
    handoffRoutes: () => [],
    adoptRoutes: async () => {},
    storeRoutes: () => {},
    ownFiles: (own) => void owned.push(own),
    shut: () => {},
  };
  return { launch, owned };
}

const binary: Binary = { path: '/srv/app.js', sea: false, commandFor: () => ({ command: 'node', args: [] }) };

function masterOn(platform: Platform, config: Record<string, unknown>, autoReady = true) {
  const clock = new FakeClock();
  const workers: FakeWorker[] = [];
  const { launch, owned } = fakeLaunch(clock, workers, autoReady);
  const events = new Master();
  const resolved = resolveConfig({ program: () => {}, address: '127.0.0.1:3000', ...config });
  const master = new MasterProcess({
    config: resolved,
    binary,
    hash: ProgramHash.known(binary.path, 'h1'),
    events,
    launch,
    platform,
    clock,
  });
  return { master, events, workers, owned };
}

test('the core: one status, from the supervisor and the master’s own part; metrics from it', async () => {
  const { core, workers } = coreOn(fakePlatform());
  core.supervisor.start();
  for (const w of workers) w.becomeReady();
  await settle();
  const s = core.status();
  assert.deepEqual(Object.keys(s), STATUS_KEYS);
  assert.equal(s.pid, process.pid);
  assert.deepEqual(
    [s.binHash, s.binPath, s.addresses, s.ipcPath, s.fetcher],
    ['h1', '/app.js', ['127.0.0.1:3000'], '', null],
  );
  assert.deepEqual([s.workerId, s.slaveID, s.restarting, s.restartedAt, s.restarts], [2, 2, false, null, 0]);
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.pid, w.slot, w.state]),
    [
      [1, 10_001, 0, 'ready'],
      [2, 10_002, 1, 'ready'],
    ],
  );
  assert.match(core.metrics(), /^overseer_workers\{state="ready"\} 2$/m);
  const withHealth = coreOn(fakePlatform(), { health: '127.0.0.1:9090' }).core.status();
  assert.deepEqual(Object.keys(withHealth), [
    ...STATUS_KEYS.slice(0, 15),
    'health',
    ...STATUS_KEYS.slice(15),
  ]);
});

test('the core: its signal handlers restart and shut down, and go with close()', () => {
  const before = listenerCounts();
  const { core } = coreOn(fakePlatform());
  const heard: string[] = [];
  core.listenForSignals({
    restartSignal: 'SIGUSR2',
    restart: () => heard.push('restart'),
    shutdown: (sig) => heard.push(sig),
  });
  assert.deepEqual(
    listenerCounts(),
    before.map((n) => n + 1),
  );
  process.emit('SIGUSR2');
  process.emit('SIGHUP');
  assert.deepEqual(heard, ['restart', 'SIGHUP']);
  core.close(false);
  assert.deepEqual(listenerCounts(), before);

  // Where the restart signal cannot be delivered, there is no handler for it.
  const { core: windowsLike } = coreOn(fakePlatform({ restartSignal: false, shutdownSignals: ['SIGINT'] }));
  windowsLike.listenForSignals({ restartSignal: 'SIGUSR2', restart: () => {} });
  assert.deepEqual(listenerCounts(), before, 'no shutdown handlers without a shutdown callback');
  windowsLike.close(false);
});

test('the core: a control socket that cannot listen is one warning and an error event; the master runs on', async () => {
  const failing = fakePlatform({
    controlSocket: async () => {
      throw Object.assign(new Error('no ipc here'), { code: 'EACCES' });
    },
  });
  const { core, workers } = coreOn(failing);
  const errors: Error[] = [];
  core.events.on('error', (err) => errors.push(err));
  const warnings = recordWarnings();
  await core.openControlSocket(() => ({ path: ipcAddress(tmp, 'never') }));
  await settle();
  warnings.stop();
  assert.deepEqual(warnings.codes, ['OVERSEER_IPC_DISABLED']);
  assert.deepEqual(
    errors.map((e) => e.message),
    ['no ipc here'],
  );
  assert.equal(core.ipcPath, '');
  core.supervisor.start();
  for (const w of workers) w.becomeReady();
  const restart = core.supervisor.restart('test');
  await settle();
  workers[2]!.becomeReady();
  await settle();
  workers[3]!.becomeReady();
  assert.deepEqual([(await restart).ok, (await restart).replaced], [true, 2]);
  assert.equal(await core.supervisor.shutdown('SIGTERM'), 0);
});

test("run()'s master on a fake OS: start, the status over the control socket, restarts, and a clean stop", async () => {
  const sockets = fakeSockets(['127.0.0.1:3000']);
  const opened: SocketOptions[] = [];
  const ipc = fakeIpc(tmp);
  const fos = fakePlatform({
    openSockets: async (_addrs, opts) => {
      opened.push(opts);
      return sockets;
    },
    controlSocket: async () => ipc,
  });
  const ipcPath = ipcAddress(tmp, 'master');
  const { master, events, workers, owned } = masterOn(fos, { workers: 2, ipcPath });
  const before = listenerCounts();
  const listening = once(events, 'listening');
  await master.start();
  assert.deepEqual(await listening, [{ addresses: ['127.0.0.1:3000'] }]);
  assert.deepEqual(
    opened.map((o) => [o.sets, o.reusePort, o.sticky, o.adoptPassed, o.handedOver]),
    [[1, false, false, false, undefined]],
  );
  assert.deepEqual(
    listenerCounts(),
    before.map((n) => n + 1),
    'the restart signal and each shutdown signal',
  );
  assert.equal(master.ipcPath, ipcPath);
  await settle();

  const { body: status } = await ask(ipcPath, 'GET', '/overseer/status');
  assert.deepEqual(Object.keys(status), STATUS_KEYS);
  assert.deepEqual(
    [status.binHash, status.binPath, status.addresses, status.ipcPath, status.workerId],
    ['h1', '/srv/app.js', ['127.0.0.1:3000', 'unix:/app.sock'], ipcPath, 2],
  );

  const bySignal = once(events, 'restart');
  process.emit('SIGUSR2');
  const [r] = (await bySignal) as [{ ok: boolean; reason: string; replaced: number }];
  assert.deepEqual([r.ok, r.reason, r.replaced], [true, 'signal', 2]);
  const { status: code, body } = await ask(ipcPath, 'POST', '/overseer/restart');
  assert.deepEqual([code, body.ok, body.replaced], [200, true, 2]);
  assert.deepEqual(
    master.status().workers.map((w) => [w.id, w.state]),
    [
      [5, 'ready'],
      [6, 'ready'],
    ],
  );
  assert.equal(master.status().restarts, 2);
  const noFetcher = await ask(ipcPath, 'POST', '/overseer/trigger-update');
  assert.deepEqual([noFetcher.status, noFetcher.body.error], [409, 'overseer: no fetcher is configured']);

  assert.equal(await master.shutdown('SIGTERM'), 0);
  assert.equal(await master.done, 0);
  const last = workers.slice(-2);
  assert.deepEqual(
    last.map((w) => w.drains.map((d) => d.signal)),
    [['SIGTERM'], ['SIGTERM']],
    'the stop signal is forwarded',
  );
  assert.deepEqual(listenerCounts(), before, 'the signal handlers are gone');
  assert.deepEqual(sockets.closed, [false], 'the sockets closed, their files with them');
  assert.deepEqual(ipc.cleaned, [ipcPath], 'the control socket closed, its file with it');
  assert.deepEqual(owned, []);
});

test("run()'s master on a fake OS: a crash under noRestart ends it with the worker's exit code", async () => {
  const fos = fakePlatform({ openSockets: async () => fakeSockets(['127.0.0.1:3000']) });
  const { master, workers } = masterOn(fos, { workers: 1, ipcPath: '', noRestart: true }, false);
  const before = listenerCounts();
  await master.start();
  workers[0]!.becomeReady();
  await settle();
  workers[0]!.exit(3);
  assert.equal(await master.done, 3);
  assert.deepEqual(listenerCounts(), before);
});

test("run()'s master on a fake OS: a control socket that cannot listen is one warning; it starts, restarts and stops", async () => {
  const fos = fakePlatform({
    openSockets: async () => fakeSockets(['127.0.0.1:3000']),
    controlSocket: async () => {
      throw new Error('no ipc here');
    },
    handoff: async () => {
      throw Object.assign(new Error('no handoff on this platform'), { code: 'ERR_OVERSEER_UNSUPPORTED' });
    },
  });
  const { master } = masterOn(fos, { workers: 2, ipcPath: ipcAddress(tmp, 'never') });
  const warnings = recordWarnings();
  await master.start();
  await settle();
  warnings.stop();
  assert.deepEqual(warnings.codes, ['OVERSEER_IPC_DISABLED']);
  assert.equal(master.ipcPath, '');
  assert.equal((await master.restart('test')).ok, true);
  // Sockets that cannot be handed over: the platform's refusal, and the master carries on.
  const reexec = await master.reexec();
  assert.deepEqual(
    [reexec.ok, (reexec.error as { code?: string }).code],
    [false, 'ERR_OVERSEER_UNSUPPORTED'],
  );
  assert.equal(master.status().restarts, 1);
  assert.equal(await master.shutdown('SIGINT'), 0);
});

test('a new master on a fake handoff channel adopts the sockets and the counters, and owns the files once committed', async () => {
  const message: HandoffMessage = {
    kind: 'sockets',
    sockets: [
      { config: '127.0.0.1:3000', address: '127.0.0.1:3000', fd: 0 },
      { config: '127.0.0.1:4000', address: '127.0.0.1:4000', fd: 1 },
    ],
    routes: [],
    control: undefined,
    state: { restarts: 7, restartFailures: 1, crashes: 2, nextWorkerId: 40, badHashes: ['bad'] },
  };
  const inbox: HandoffMessage[] = [message, { kind: 'commit' }];
  const sent: HandoffMessage[] = [];
  const conn: HandoffConnection = {
    send: async (m) => void sent.push(m),
    receive: async () => {
      const m = inbox.shift();
      if (m === undefined) throw new Error('nothing more');
      return { message: m, fds: m.kind === 'sockets' ? [50, 51] : [] };
    },
    peerPid: () => 1,
    close: () => {},
  };
  const closedFds: number[] = [];
  const handedOver: unknown[] = [];
  const sockets = {
    ...fakeSockets(['127.0.0.1:3000']),
    // This master's config keeps only the first address: the second socket closes.
    handoff: () => ({ sockets: [{ config: '127.0.0.1:3000', address: '127.0.0.1:3000', fd: 50 }] }),
  };
  const fos = fakePlatform({
    handoff: async () => ({ listen: () => Promise.reject(new Error('old side')), connect: async () => conn }),
    openSockets: async (_addrs, opts) => {
      handedOver.push(opts.handedOver);
      return sockets;
    },
    closeFd: (fd) => void closedFds.push(fd),
  });
  const { master, workers, owned } = masterOn(fos, { workers: 1, ipcPath: '' });
  process.env.OVERSEER_HANDOFF = 'fake';
  await master.start();
  assert.equal(process.env.OVERSEER_HANDOFF, undefined, 'its workers are not new masters');
  assert.deepEqual(handedOver, [{ sockets: message.sockets.map((s, i) => ({ ...s, fd: 50 + i })) }]);
  assert.deepEqual(closedFds, [51]);
  assert.equal(workers[0]!.id, 40, 'worker ids follow the old master’s');
  const s = master.status();
  assert.deepEqual([s.restarts, s.restartFailures, s.crashes], [7, 1, 2]);
  await settle();
  assert.deepEqual(sent, [{ kind: 'ready', pid: process.pid }]);
  assert.deepEqual(owned, [false, true], "the files are the old master's until it commits");
  assert.equal(await master.shutdown('SIGTERM'), 0);
  assert.deepEqual(sockets.closed, [false]);
});

test('the cluster primary on a fake OS: the same status shape, and its own API', async () => {
  const ipc = fakeIpc(tmp);
  const primary = new ClusterPrimary(fakePlatform({ controlSocket: async () => ipc }));
  const ipcPath = ipcAddress(tmp, 'primary');
  const usr2 = process.listenerCount('SIGUSR2');
  primary.setupPrimary({ ipcPath });
  assert.equal(process.listenerCount('SIGUSR2'), usr2 + 1, 'SIGUSR2 reloads');
  let status: Record<string, unknown> | undefined;
  for (let i = 0; i < 100 && status === undefined; i++) {
    status = await ask(ipcPath, 'GET', '/overseer/status').then(
      (a) => a.body,
      () => settle().then(() => undefined),
    );
  }
  assert.ok(status, 'the control socket listens');
  assert.deepEqual(Object.keys(status), STATUS_KEYS);
  assert.deepEqual(
    [status.binHash, status.binPath, status.addresses, status.workers, status.ipcPath, status.fetcher],
    ['', process.argv[1], [], [], ipcPath, null],
  );
  const update = await ask(ipcPath, 'POST', '/overseer/trigger-update');
  assert.deepEqual([update.status, update.body.error], [409, 'overseer/cluster: no fetcher is configured']);
  assert.equal((await ask(ipcPath, 'POST', '/overseer/reexec')).status, 409);
  const reload = await ask(ipcPath, 'POST', '/overseer/restart');
  assert.deepEqual([reload.status, reload.body.ok, reload.body.replaced], [200, true, 0]);
});

test("a worker's slotRestarts counts the workers started in its slot before it, its own and not its successor's", async () => {
  const { core, workers } = coreOn(fakePlatform());
  core.supervisor.start();
  for (const w of workers) w.becomeReady();
  await settle();
  const restart = core.supervisor.restart('test');
  await settle();
  // Slot 0 overlaps: its old worker serves while its successor starts.
  const slot0 = () =>
    core
      .status()
      .workers.filter((w) => w.slot === 0)
      .map((w) => [w.id, w.slotRestarts]);
  assert.deepEqual(slot0(), [
    [1, 0],
    [3, 1],
  ]);
  for (const w of workers.slice(2)) w.becomeReady();
  await settle();
  workers.at(-1)?.becomeReady();
  await restart;
  core.close(false);
});

test("the core's status and metrics carry each worker's and the master's CPU and memory, and nothing when unknown", async () => {
  const usage = new Map<number, ProcessUsage>([
    [process.pid, { cpuSeconds: 2, rssBytes: 40 * 2 ** 20 }],
    [10_001, { cpuSeconds: 3, rssBytes: 60 * 2 ** 20 }],
  ]);
  const { core, workers } = coreOn(fakePlatform({ processUsage: (pid) => usage.get(pid) }));
  core.supervisor.start();
  for (const w of workers) w.becomeReady();
  await settle();
  const s = core.status();
  const name = appIdentity(process.argv[1], undefined).name;
  assert.deepEqual([s.name, s.cpuSeconds, s.rssBytes], [name, 2, 40 * 2 ** 20]);
  assert.equal(typeof s.cpuPercent, 'number');
  assert.deepEqual(
    s.workers.map((w) => [w.id, w.cpuSeconds, w.rssBytes, w.slotRestarts]),
    [
      [1, 3, 60 * 2 ** 20, 0],
      [2, null, null, 0],
    ],
  );
  const metrics = core.metrics();
  assert.match(
    metrics,
    new RegExp(`^overseer_info\\{version="[^"]+",bin_hash="h1",name="${name}"\\} 1$`, 'm'),
  );
  assert.match(
    metrics,
    new RegExp(`^overseer_cpu_seconds_total\\{name="${name}",process="master"\\} 2$`, 'm'),
  );
  assert.match(
    metrics,
    /^overseer_cpu_seconds_total\{name="[^"]+",process="worker",worker="1",slot="0"\} 3$/m,
  );
  assert.match(
    metrics,
    /^overseer_resident_memory_bytes\{name="[^"]+",process="worker",worker="1",slot="0"\} 62914560$/m,
  );
  assert.doesNotMatch(metrics, /worker="2"/, 'a worker the OS says nothing of has no sample');
});
