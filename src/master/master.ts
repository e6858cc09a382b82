// The master's wiring: its listening sockets, its signals, the control socket, the updater
// and systemd, around the supervisor that runs the workers. The fetch pipeline (fetchers,
// archives, tar, zlib) is loaded only when a fetcher is configured.
import type { ResolvedConfig } from '../config.js';
import { workerEnvironment } from '../contract/env.js';
import type { ControlSocket } from '../control/control-socket.js';
import { codedError, errorMessage } from '../errors.js';
import { debug, warn } from '../log.js';
import type { MasterEngine, Master as MasterHandle } from '../master-handle.js';
import { type MasterSockets, os } from '../os/index.js';
import type { Updater } from '../upgrade/updater.js';
import { version } from '../version.js';
import type { Binary } from './binary.js';
import { realClock } from './clock.js';
import type { CrashEvent, RestartResult, UpdateOutcome } from './events.js';
import { collectGarbage } from './heap.js';
import type { WorkerLaunch } from './launch.js';
import type { LogBuffer } from './log-buffer.js';
import { renderMetrics } from './metrics.js';
import type { MasterStatus, WorkerStatus } from './status.js';
import { Supervisor } from './supervisor.js';
import { systemdNotifier } from './systemd.js';
import { WorkerProcess } from './worker-process.js';

/** How long after a restart's drained workers exit the master compacts its heap. */
const COMPACT_DELAY_MS = 1_000;

export class MasterProcess implements MasterEngine {
  readonly pid = process.pid;
  readonly startedAt = new Date();
  readonly binary: Binary;
  readonly binPath: string;
  binHash: string;
  /** The control socket's path, once it listens ('' when there is none). */
  ipcPath = '';
  /** Events that control-socket readers lost because they did not keep up. */
  eventsDropped = 0;
  /** Resolves with the exit code once the master has shut down and let go of everything. */
  readonly done: Promise<number>;
  /** The master's EventEmitter, as currentMaster() hands it out. */
  readonly events: MasterHandle;

  readonly #config: ResolvedConfig;
  readonly #launch: WorkerLaunch | undefined;
  readonly #supervisor: Supervisor;
  readonly #systemd = systemdNotifier();
  readonly #signalHandlers = new Map<NodeJS.Signals, () => void>();
  #sockets: MasterSockets | undefined;
  #control: ControlSocket | undefined;
  #updater: Updater | undefined;
  #compactTimer: NodeJS.Timeout | undefined;

  /** `launch`: how workers start when they are not the program's own entry (`overseer run`). */
  constructor(
    config: ResolvedConfig,
    binary: Binary,
    binHash: string,
    events: MasterHandle,
    launch?: WorkerLaunch,
  ) {
    this.#config = config;
    this.#launch = launch;
    this.binary = binary;
    this.binPath = binary.path;
    this.binHash = binHash;
    this.events = events;
    this.#supervisor = new Supervisor(
      {
        workers: config.workers,
        restartMode: config.restartMode,
        terminateTimeout: config.terminateTimeout,
        noRestart: config.noRestart,
        forwardSignals: os.forwardSignals && (launch?.forwardSignals ?? true),
      },
      {
        spawn: (slot, id) => this.#spawn(slot, id),
        clock: realClock,
        emit: (event, ...payload) => events.emit(event, ...(payload as never)),
        warn,
        reportError: (err) => this.#reportError(err),
        allReady: () =>
          this.#systemd?.ready(
            `${config.workers} worker(s) ready on ${this.addresses.join(', ') || 'no address'}`,
          ),
        restarting: () => this.#systemd?.reloading(),
        restarted: (r) =>
          this.#systemd?.ready(
            r.ok ? `restarted in ${r.durationMs} ms` : `restart failed: ${r.error?.message}`,
          ),
        settled: () => this.#compactSoon(),
      },
    );
    this.done = this.#supervisor.done.then((code) => {
      this.#letGo();
      debug('master: done, exit code %d', code);
      return code;
    });
  }

  get addresses(): readonly string[] {
    const own = this.#sockets?.addresses ?? [];
    return this.#launch ? [...own, ...this.#launch.addresses()] : own;
  }

  /** The workers' output, when this master keeps it (`overseer run`). */
  get logs(): LogBuffer | undefined {
    return this.#launch?.logs;
  }

  /** Makes the sockets, installs the signal handlers and starts the first workers. */
  async start(): Promise<void> {
    const { workers, reusePort, backlog } = this.#config;
    this.#sockets = await os.openSockets(this.#config.addresses, {
      sets: reusePort ? workers : 1,
      reusePort,
      backlog,
      sticky: this.#config.sticky === 'ip',
      adoptPassed: this.#launch === undefined,
    });
    this.events.emit('listening', { addresses: this.#sockets.addresses });
    this.#installSignals();
    await this.#startControlSocket();
    this.#supervisor.start();
    // After the forks: the first fetch never delays the first worker.
    if (this.#config.fetcher) {
      this.#updater = await this.#createUpdater();
      if (!this.#supervisor.stopping) this.#updater.start();
    }
  }

  restart(reason = 'api'): Promise<RestartResult> {
    return this.#supervisor.restart(reason);
  }

  /** Graceful shutdown: forwards `signal`, waits up to terminateTimeout, then SIGKILLs. */
  shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (!this.#supervisor.stopping) {
      this.#systemd?.stopping();
      debug('master: shutting down (%s), %d workers', signal, this.#supervisor.workers().length);
      this.#updater?.stop();
    }
    return this.#supervisor.shutdown(signal);
  }

  status(): MasterStatus {
    const s = this.#supervisor;
    const workers: WorkerStatus[] = s
      .workers()
      .filter((w) => w.phase !== 'exited')
      .map((w) => ({
        id: w.id,
        pid: w.pid,
        slot: w.slot,
        state: w.phase as WorkerStatus['state'],
        startedAt: w.startedAt.toISOString(),
        readyAt: w.readyAt?.toISOString() ?? null,
      }));
    return {
      pid: this.pid,
      binHash: this.binHash,
      binPath: this.binPath,
      workerId: s.newestReady,
      slaveID: s.newestReady,
      restarting: s.restarting,
      restartedAt: s.restartedAt?.toISOString() ?? null,
      restarts: s.restarts,
      restartFailures: s.restartFailures,
      crashes: s.crashes,
      eventsDropped: this.eventsDropped,
      startedAt: this.startedAt.toISOString(),
      addresses: this.addresses,
      workers,
      ipcPath: this.ipcPath,
      fetcher: this.#updater?.status() ?? null,
      version,
    };
  }

  /** One fetch cycle now (joining one under way); resolves with what it came to. */
  triggerUpdate(): Promise<UpdateOutcome> {
    if (!this.#updater) {
      return Promise.reject(
        codedError(Error, 'ERR_OVERSEER_NO_FETCHER', 'overseer: no fetcher is configured'),
      );
    }
    return this.#updater.trigger();
  }

  metrics(): string {
    return renderMetrics(this.status(), process.uptime());
  }

  countDroppedEvents(n: number): void {
    this.eventsDropped += n;
  }

  /**
   * Resolves with an error when a worker crashes within `ms` (an upgrade's health window),
   * or undefined once the window has passed or `signal` aborts.
   */
  watchHealth(ms: number, signal: AbortSignal): Promise<Error | undefined> {
    if (ms <= 0 || signal.aborted) return Promise.resolve(undefined);
    const t0 = Date.now();
    return new Promise((resolve) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        this.events.off('crash', onCrash);
        signal.removeEventListener('abort', onAbort);
        resolve(err);
      };
      const onCrash = (e: CrashEvent): void => {
        const how = e.signal ?? `code ${e.code}`;
        const message = `worker ${e.workerId} died (${how}) ${Date.now() - t0} ms after the new workers were ready`;
        done(codedError(Error, 'ERR_OVERSEER_UPGRADE_UNHEALTHY', message));
      };
      const onAbort = (): void => done();
      const timer = setTimeout(done, ms);
      this.events.on('crash', onCrash);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #spawn(slot: number, id: number): WorkerProcess {
    if (this.#launch) {
      return this.#launch.spawn(slot, id, {
        ipcPath: this.ipcPath,
        binHash: this.binHash,
        binPath: this.binPath,
      });
    }
    const sockets = this.#sockets!;
    const env = {
      ...process.env,
      ...workerEnvironment({
        workerId: id,
        binId: this.binHash,
        binPath: this.binPath,
        numFds: sockets.addresses.length,
        ipcPath: this.ipcPath,
        addresses: [...sockets.addresses],
        masterPid: process.pid,
      }),
    };
    const { command, args } = this.binary.commandFor(this.binary.path);
    const spec = { command, args, env, listeners: sockets.passTo(slot) };
    return new WorkerProcess(id, slot, spec, this.#config.readyTimeout);
  }

  async #createUpdater(): Promise<Updater> {
    const c = this.#config;
    const { Updater } = await import('../upgrade/updater.js');
    const options = {
      minFetchInterval: c.minFetchInterval,
      keepReleases: c.keepReleases,
      sanityCheckTimeout: c.sanityCheckTimeout,
      noRestartAfterFetch: c.noRestartAfterFetch,
      preUpgrade: c.preUpgrade,
      upgradeHealthWindow: c.upgradeHealthWindow,
    };
    return new Updater(c.fetcher!, options, {
      binary: this.binary,
      getHash: () => this.binHash,
      setHash: (hash) => {
        this.binHash = hash;
      },
      restart: (reason) => this.restart(reason),
      watchHealth: (ms, signal) => this.watchHealth(ms, signal),
      onUpgrade: (event) => {
        this.events.emit('upgrade', event);
        if (event.result !== 'failed') return;
        const err = codedError(Error, 'ERR_OVERSEER_UPGRADE_FAILED', `upgrade failed: ${event.reason}`);
        if (event.code !== undefined) err.code = event.code; // the failed step's own code
        this.#reportError(err);
      },
      onError: (err) => this.#reportError(err),
    });
  }

  /**
   * The control socket comes up after the signal handlers and before the first fork. It
   * is never fatal: without it, signals still restart and stop the master.
   */
  async #startControlSocket(): Promise<void> {
    const c = this.#config;
    if (c.ipcPath === '') return;
    try {
      const { ControlSocket } = await import('../control/control-socket.js');
      const opts = { path: c.ipcPath, handler: c.handler, securityDescriptor: c.ipcSecurityDescriptor };
      this.#control = await ControlSocket.open(this, opts);
      this.ipcPath = this.#control.path;
    } catch (err) {
      warn(`ipc listen failed (${errorMessage(err)}). control socket disabled.`, 'OVERSEER_IPC_DISABLED');
      this.#reportError(err);
    }
  }

  /** Once a restart has settled (its drained workers gone), one full GC returns their memory. */
  #compactSoon(): void {
    clearTimeout(this.#compactTimer);
    this.#compactTimer = setTimeout(() => {
      if (this.#supervisor.restarting) return this.#compactSoon();
      void collectGarbage();
    }, COMPACT_DELAY_MS);
    this.#compactTimer.unref();
  }

  /** Shutdown is over: the signals, sockets and control socket go. */
  #letGo(): void {
    clearTimeout(this.#compactTimer);
    for (const [sig, handler] of this.#signalHandlers) process.off(sig, handler);
    this.#signalHandlers.clear();
    this.#sockets?.close();
    this.#control?.close();
  }

  /**
   * 'error' for those who listen. An EventEmitter throws an 'error' nobody listens to, and
   * a failed restart or upgrade must never take the master down: the warning already told.
   */
  #reportError(err: unknown): void {
    if (this.events.listenerCount('error') > 0)
      this.events.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  #installSignals(): void {
    const on = (sig: NodeJS.Signals, handler: () => void): void => {
      this.#signalHandlers.set(sig, handler);
      process.on(sig, handler);
    };
    if (os.restartSignal) on(this.#config.restartSignal, () => void this.restart('signal'));
    for (const sig of os.shutdownSignals) on(sig, () => void this.shutdown(sig));
  }
}
