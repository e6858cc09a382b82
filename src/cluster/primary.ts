// overseer/cluster in the primary: node:cluster's API, on overseer's engine. Workers are
// slots of the same supervisor as run()'s (without replacement: a worker that dies is gone,
// as in node:cluster, and the program decides), listens are routed to sockets the primary
// makes once and keeps (so the port stays open, and queues, while no worker is alive), the
// primary never accepts, and cluster.reload() is an overlapping, readiness-gated restart.

import type { StdioOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { ipcPath } from '../config.js';
import { preloadArgs, workerEnvironment } from '../contract/env.js';
import type { ControlSocket } from '../control/control-socket.js';
import { codedError, errorMessage } from '../errors.js';
import { debug, warn } from '../log.js';
import { realClock } from '../master/clock.js';
import type { MasterEvents, RestartResult } from '../master/events.js';
import { ListenRoutes } from '../master/listen-routes.js';
import { renderMetrics } from '../master/metrics.js';
import type { MasterStatus } from '../master/status.js';
import { Supervisor } from '../master/supervisor.js';
import { WorkerProcess } from '../master/worker-process.js';
import { durationOption } from '../options.js';
import { passedFds } from '../os/activation.js';
import { os } from '../os/index.js';
import { version } from '../version.js';
import { Worker, WorkerBase } from './worker.js';

export const SCHED_NONE = 1;
export const SCHED_RR = 2;

/** cluster.setupPrimary()'s settings: node:cluster's, and overseer's bounds. */
export interface ClusterSettings {
  exec?: string;
  args?: string[];
  execArgv?: string[];
  silent?: boolean;
  stdio?: StdioOptions;
  cwd?: string;
  serialization?: 'json' | 'advanced';
  windowsHide?: boolean;
  uid?: number;
  gid?: number;
  inspectPort?: number | (() => number);
  /** ms a retired worker may take to drain before it is killed (reload). Default 30000. */
  terminateTimeout?: number;
  /** ms a reload's new worker may take to become ready. Default 30000. */
  readyTimeout?: number;
  /** ms a draining worker leaves WebSockets and event streams to the program. Default 5000. */
  upgradeGrace?: number;
  /** Where the control socket lives; '' disables it. Default: a fresh path, as run()'s. Read at the first setup. */
  ipcPath?: string;
}

const invalid = (field: string, problem: string) =>
  codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `overseer/cluster: settings.${field} ${problem}`);

/** overseer's own settings, checked as run()'s config is (node:cluster's are Node's to check). */
function checkSettings(s: ClusterSettings): void {
  const o = s as Record<string, unknown>;
  durationOption(o, 'terminateTimeout', 30_000, 1, invalid);
  durationOption(o, 'readyTimeout', 30_000, 1, invalid);
  durationOption(o, 'upgradeGrace', 5_000, 0, invalid);
  ipcPath(o.ipcPath, invalid);
}

class PrimaryWorker extends WorkerBase {
  constructor(
    readonly handle: WorkerProcess,
    private readonly forget: (w: PrimaryWorker) => void,
  ) {
    super({ id: handle.id, process: handle.child });
  }

  /** Its servers finish what they serve, then it leaves (node:cluster's semantics). */
  override disconnect(): this {
    this.exitedAfterDisconnect = true;
    this.handle.expectExit();
    this.handle.send({ cmd: 'NODE_OVERSEER', act: 'disconnect' });
    this.forget(this);
    return this;
  }

  override destroy(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.handle.kill(signal);
  }
}

export class ClusterPrimary extends EventEmitter {
  readonly isPrimary = true;
  readonly isMaster = true;
  readonly isWorker = false;
  readonly Worker = Worker;
  readonly SCHED_NONE = SCHED_NONE;
  readonly SCHED_RR = SCHED_RR;
  readonly workers: Record<number, PrimaryWorker> = {};
  settings: ClusterSettings = {};
  /**
   * Accepted for node:cluster's sake and frozen at the first fork. Either way workers accept
   * from the shared socket: a primary that accepts (SCHED_RR) is what overseer exists to avoid.
   */
  schedulingPolicy: number = policyFromEnv();

  readonly #events = new EventEmitter<MasterEvents>();
  readonly #routes = new ListenRoutes();
  readonly #envs = new Map<number, NodeJS.ProcessEnv>();
  readonly #facades = new Map<WorkerProcess, PrimaryWorker>();
  readonly #startedAt = new Date();
  #supervisor: Supervisor | undefined;
  #nextEnv: NodeJS.ProcessEnv = {};
  #control: ControlSocket | undefined;
  #ipcPath = '';
  #eventsDropped = 0;

  constructor() {
    super();
    // node:cluster's functions do not need their object: `const { fork } = cluster` works.
    this.fork = this.fork.bind(this);
    this.setupPrimary = this.setupPrimary.bind(this);
    this.setupMaster = this.setupMaster.bind(this);
    this.disconnect = this.disconnect.bind(this);
    this.reload = this.reload.bind(this);
  }

  setupPrimary(options: ClusterSettings = {}): void {
    this.settings = {
      args: process.argv.slice(2),
      exec: process.argv[1],
      execArgv: process.execArgv,
      silent: false,
      ...this.settings,
      ...options,
    };
    const settings = this.settings;
    checkSettings(settings);
    process.nextTick(() => this.emit('setup', settings));
    if (this.#supervisor) return;
    const primary = this;
    this.#supervisor = new Supervisor(
      {
        workers: 0,
        restartMode: 'overlap',
        // Read at each use: a later setupPrimary() may change it, as node:cluster's settings do.
        get terminateTimeout() {
          return primary.settings.terminateTimeout ?? 30_000;
        },
        noRestart: false,
        forwardSignals: os.forwardSignals,
        replace: false,
      },
      {
        spawn: (slot, id) => this.#spawn(slot, id),
        clock: realClock,
        emit: (event, ...payload) => this.#events.emit(event, ...(payload as never)),
        warn,
        reportError: (err) => debug('cluster: %s', err.message),
      },
    );
    if (os.restartSignal) process.on('SIGUSR2', () => void this.reload());
    passedFds(); // socket activation: for the workers' listens, and out of their environment
    void this.#startControlSocket();
  }

  setupMaster(options?: ClusterSettings): void {
    this.setupPrimary(options);
  }

  fork(env: NodeJS.ProcessEnv = {}): PrimaryWorker {
    this.setupPrimary();
    this.#nextEnv = env;
    const handle = this.#supervisor!.addSlot() as WorkerProcess;
    return this.#facades.get(handle)!;
  }

  /** Disconnects every worker; `cb` runs once each one's IPC channel has closed. */
  disconnect(cb?: () => void): void {
    const connected = Object.values(this.workers).filter((w) => w.isConnected());
    const gone = connected.map(
      (w) => new Promise<void>((resolve) => w.process.once('disconnect', () => resolve())),
    );
    for (const w of connected) w.disconnect();
    if (typeof cb === 'function') void Promise.all(gone).then(() => cb());
  }

  /**
   * A rolling, overlapping restart of every worker: each new worker is ready (it listens on
   * every address its predecessor listened on, or is online if that one never listened)
   * before its predecessor drains. A new worker that fails leaves the old one serving.
   */
  reload(): Promise<RestartResult> {
    if (!this.#supervisor) {
      return Promise.resolve({ ok: true, reason: 'reload', durationMs: 0, replaced: 0 });
    }
    return this.#supervisor.restart('reload');
  }

  #spawn(slot: number, id: number): WorkerProcess {
    const s = this.settings;
    if (!this.#envs.has(slot)) this.#envs.set(slot, this.#nextEnv);
    const predecessor = this.#supervisor?.slots.find((x) => x.index === slot)?.current as
      | WorkerProcess
      | undefined;
    const expected = [...(predecessor?.listening ?? [])];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.#envs.get(slot),
      ...workerEnvironment('cluster', {
        workerId: id,
        masterPid: process.pid,
        terminateTimeout: s.terminateTimeout,
        upgradeGrace: s.upgradeGrace,
      }),
    };
    const stdio = s.stdio ?? (s.silent ? ['pipe', 'pipe', 'pipe'] : ['inherit', 'inherit', 'inherit']);
    const execArgv = [...(s.execArgv ?? [])];
    if (execArgv.some((a) => /^--inspect(-brk|-wait)?(=|$)/.test(a))) {
      const port =
        typeof s.inspectPort === 'function' ? s.inspectPort() : (s.inspectPort ?? process.debugPort + id);
      execArgv.push(`--inspect-port=${port}`);
    }
    const handle = new WorkerProcess(
      id,
      slot,
      {
        command: process.execPath,
        args: [
          ...execArgv,
          ...preloadArgs(execArgv, env.NODE_OPTIONS),
          s.exec ?? process.argv[1] ?? '',
          ...(s.args ?? []),
        ],
        env,
        listeners: { stdio: [], attach: () => {} },
        stdio,
        options: {
          ...(s.cwd === undefined ? {} : { cwd: s.cwd }),
          ...(s.serialization === undefined ? {} : { serialization: s.serialization }),
          ...(s.windowsHide === undefined ? {} : { windowsHide: s.windowsHide }),
          ...(s.uid === undefined ? {} : { uid: s.uid }),
          ...(s.gid === undefined ? {} : { gid: s.gid }),
        },
        route: (request) => this.#routes.route(request),
        readiness: 'external',
      },
      s.readyTimeout ?? 30_000,
    );
    const worker = new PrimaryWorker(handle, (w) => this.#forget(w));
    this.#facades.set(handle, worker);
    this.workers[id] = worker;
    this.#wire(worker, expected, predecessor !== undefined);
    // Every new worker, cluster.fork()'s and reload()'s, is announced as node:cluster does.
    process.nextTick(() => this.emit('fork', worker));
    return handle;
  }

  /** node:cluster's events, in its order, on the worker and on the cluster. */
  #wire(worker: PrimaryWorker, expected: string[], forReload: boolean): void {
    const handle = worker.handle;
    const child = handle.child;
    const readyIfListening = (): void => {
      if (expected.every((k) => handle.listening.has(k))) handle.becomeReady();
    };
    worker.on('message', (message: unknown, h: unknown) => this.emit('message', worker, message, h));
    handle.on('online', () => {
      worker.state = 'online';
      worker.emit('online');
      this.emit('online', worker);
      readyIfListening();
    });
    handle.on('listening', (info: { addressType: number; address: string | null; port: number }) => {
      const address = {
        addressType: info.addressType,
        address: info.address,
        port: info.port,
        fd: undefined,
      };
      worker.state = 'listening';
      worker.emit('listening', address);
      this.emit('listening', worker, address);
      readyIfListening();
    });
    handle.on('leaving', () => {
      worker.exitedAfterDisconnect = true;
      handle.expectExit();
    });
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      if (!worker.isConnected()) this.#forget(worker);
      // Also true for a worker the primary let go of: retired by a reload, or a reload's
      // worker that failed to start (the old one keeps serving; nothing for the program to fork).
      const failedReload = forReload && handle.readyAt === undefined;
      worker.exitedAfterDisconnect = !!worker.exitedAfterDisconnect || handle.drainRequested || failedReload;
      worker.state = 'dead';
      worker.emit('exit', code, signal);
      this.emit('exit', worker, code, signal);
    });
    child.once('disconnect', () => {
      if (worker.isDead()) this.#forget(worker);
      worker.exitedAfterDisconnect = !!worker.exitedAfterDisconnect;
      worker.state = 'disconnected';
      worker.emit('disconnect');
      this.emit('disconnect', worker);
    });
  }

  /** Out of cluster.workers. */
  #forget(worker: PrimaryWorker): void {
    if (this.workers[worker.id] !== worker) return;
    delete this.workers[worker.id];
    this.#facades.delete(worker.handle);
  }

  /** The control socket (`overseer status`, `overseer restart`); it never keeps the primary alive. */
  async #startControlSocket(): Promise<void> {
    try {
      const { ControlSocket } = await import('../control/control-socket.js');
      if (this.settings.ipcPath === '') return;
      this.#control = await ControlSocket.open(this.#apiTarget(), {
        path: this.settings.ipcPath,
        handler: undefined,
        securityDescriptor: undefined,
      });
      this.#control.unref();
      this.#ipcPath = this.#control.path;
    } catch (err) {
      warn(`ipc listen failed (${errorMessage(err)}). control socket disabled.`, 'OVERSEER_IPC_DISABLED');
    }
  }

  #apiTarget() {
    return {
      events: this.#events,
      status: () => this.#status(),
      restart: () => this.reload(),
      triggerUpdate: () =>
        Promise.reject(
          codedError(Error, 'ERR_OVERSEER_NO_FETCHER', 'overseer/cluster: no fetcher is configured'),
        ),
      metrics: () => renderMetrics(this.#status(), process.uptime()),
      countDroppedEvents: (n: number) => {
        this.#eventsDropped += n;
      },
    };
  }

  #status(): MasterStatus {
    const s = this.#supervisor;
    return {
      pid: process.pid,
      binHash: '',
      binPath: this.settings.exec ?? '',
      workerId: s?.newestReady ?? 0,
      slaveID: s?.newestReady ?? 0,
      restarting: s?.restarting ?? false,
      restartedAt: s?.restartedAt?.toISOString() ?? null,
      restarts: s?.restarts ?? 0,
      restartFailures: s?.restartFailures ?? 0,
      crashes: s?.crashes ?? 0,
      eventsDropped: this.#eventsDropped,
      startedAt: this.#startedAt.toISOString(),
      addresses: this.#routes.keys(),
      workers: (s?.workers() ?? [])
        .filter((w) => w.phase !== 'exited')
        .map((w) => ({
          id: w.id,
          pid: w.pid,
          slot: w.slot,
          state: w.phase as 'starting' | 'ready' | 'draining',
          startedAt: w.startedAt.toISOString(),
          readyAt: w.readyAt?.toISOString() ?? null,
        })),
      ipcPath: this.#ipcPath,
      fetcher: null,
      version,
    };
  }
}

/** The one primary-side cluster object of this process. */
export const cluster = new ClusterPrimary();

function policyFromEnv(): number {
  const p = process.env.NODE_CLUSTER_SCHED_POLICY;
  if (p === 'rr') return SCHED_RR;
  if (p === 'none') return SCHED_NONE;
  return process.platform === 'win32' ? SCHED_NONE : SCHED_RR;
}
