// The master's wiring: its listening sockets, its signals, the control socket, the updater
// and systemd, around the supervisor that runs the workers. The fetch pipeline (fetchers,
// archives, tar, zlib) is loaded only when a fetcher is configured.
import type { ResolvedConfig } from '../config.js';
import { workerEnvironment } from '../contract/env.js';
import type { ControlSocket } from '../control/control-socket.js';
import { codedError, errorMessage } from '../errors.js';
import { debug, warn } from '../log.js';
import type { MasterEngine, Master as MasterHandle } from '../master-handle.js';
import { storedName } from '../os/activation.js';
import { type MasterSockets, os } from '../os/index.js';
import type { Updater } from '../upgrade/updater.js';
import { version } from '../version.js';
import type { Binary } from './binary.js';
import { realClock } from './clock.js';
import type { RestartResult, UpdateOutcome } from './events.js';
import { handOff, type Inherited, takeHandoff } from './handoff.js';
import type { ReexecResult } from './handoff-protocol.js';
import type { HealthServer } from './health.js';
import { crashWithin } from './health-window.js';
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
  /** A new master's inheritance from the old one (reexec). */
  #inherited: Inherited | undefined;
  #reexec: Promise<ReexecResult> | undefined;
  /** A shutdown waiting out drainDelay. */
  #delayedShutdown: Promise<number> | undefined;
  #health: HealthServer | undefined;
  /** The old master's known-bad versions (a handoff), for this master's updater. */
  #inheritedBad: string[] = [];
  /** Whether the sockets' files (unix sockets, the control socket) are this master's to remove. */
  #ownsFiles = true;
  /** Set once a new master took over: this one drains its workers and exits with 0. */
  #handedOff = false;

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
        allReady: () => {
          this.#systemd?.ready(
            `${config.workers} worker(s) ready on ${this.addresses.join(', ') || 'no address'}`,
          );
          void this.#tellOldMaster();
        },
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
      return this.#handedOff ? 0 : code;
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
    await os.reapOrphans(); // before the first spawn, so that every child of ours is known
    const inherited = await takeHandoff();
    this.#inherited = inherited;
    // Until the old master commits, its files are its own: this one may yet be killed.
    if (inherited) {
      this.#ownsFiles = false;
      this.#launch?.ownFiles(false);
    }
    try {
      this.#sockets = await os.openSockets(this.#config.addresses, {
        sets: reusePort ? workers : 1,
        reusePort,
        backlog,
        sticky: this.#config.sticky === 'ip',
        adoptPassed: this.#launch === undefined,
        ...(inherited ? { handedOver: inherited.sockets } : {}),
      });
      this.#storeSockets();
      if (inherited) {
        this.#closeUnused(inherited);
        await this.#launch?.adoptRoutes(inherited.routes);
        const { badHashes = [], nextWorkerId, restarts, restartFailures, crashes } = inherited.state;
        Object.assign(this.#supervisor, { restarts, restartFailures, crashes });
        if (typeof nextWorkerId === 'number' && Number.isSafeInteger(nextWorkerId) && nextWorkerId > 0)
          this.#supervisor.nextWorkerId = nextWorkerId;
        this.#inheritedBad = badHashes;
      }
    } catch (err) {
      inherited?.fail(err);
      throw err;
    }
    this.events.emit('listening', { addresses: this.#sockets.addresses });
    // A new master takes the health port once the old one has let go of it (the commit).
    if (!inherited) await this.#serveHealth();
    this.#installSignals();
    await this.#startControlSocket();
    this.#supervisor.start();
    // After the forks: the first fetch never delays the first worker.
    if (this.#config.fetcher) {
      this.#updater = await this.#createUpdater();
      this.#updater.rememberBad(this.#inheritedBad);
      if (!this.#supervisor.stopping) this.#updater.start();
    }
  }

  restart(reason = 'api'): Promise<RestartResult> {
    return this.#supervisor.restart(reason);
  }

  /**
   * Replaces this master with a new one (`command`, or this process's own command line) on
   * the same sockets; a second call while one runs joins it. See handoff.ts.
   */
  reexec(command?: readonly string[]): Promise<ReexecResult> {
    this.#reexec ??= this.#handOff(command).finally(() => {
      this.#reexec = undefined;
    });
    return this.#reexec;
  }

  async #handOff(command: readonly string[] | undefined): Promise<ReexecResult> {
    const t0 = Date.now();
    const refuse = (message: string): ReexecResult => ({
      ok: false,
      durationMs: Date.now() - t0,
      error: codedError(Error, 'ERR_OVERSEER_HANDOFF', `handoff: ${message}`),
    });
    if (this.#supervisor.stopping) return refuse('the master is shutting down');
    const handed = this.#sockets?.handoff?.();
    if (handed === undefined) {
      try {
        await os.handoff(); // the platform's own refusal, when it has one
      } catch (err) {
        return { ok: false, durationMs: Date.now() - t0, error: err as Error };
      }
      return refuse('this master cannot hand its sockets over');
    }
    const controlFd = this.#control?.fd;
    const { result } = await handOff(
      {
        sockets: handed.sockets,
        routes: this.#launch?.handoffRoutes() ?? [],
        control:
          this.#control && controlFd !== undefined ? { path: this.#control.path, fd: controlFd } : undefined,
        state: {
          restarts: this.#supervisor.restarts,
          restartFailures: this.#supervisor.restartFailures,
          crashes: this.#supervisor.crashes,
          badHashes: this.#updater?.status().badHashes ?? [],
          nextWorkerId: this.#supervisor.nextWorkerId,
        },
        env: this.#systemd
          ? { NOTIFY_SOCKET: this.#systemd.socket, ...(this.#systemd.store ? { FDSTORE: '1' } : {}) }
          : {},
        readyTimeout: this.#config.readyTimeout,
        // The health port goes to the new master with the commit.
        beforeCommit: () => {
          this.#health?.close();
          this.#health = undefined;
        },
      },
      command,
    );
    this.events.emit('reexec', result);
    if (!result.ok) {
      await this.#serveHealth().catch(() => {});
      return result;
    }
    // Committed: the new master serves every socket and its files; this one drains and goes.
    this.#handedOff = true;
    this.#ownsFiles = false;
    this.#launch?.ownFiles(false);
    this.#control?.handOver();
    void this.shutdown('SIGTERM');
    return result;
  }

  /** A new master, once all its slots are ready: the old one drains now, and its files are ours. */
  async #tellOldMaster(): Promise<void> {
    const inherited = this.#inherited;
    if (!inherited) return;
    this.#inherited = undefined;
    if (!(await inherited.ready())) return;
    this.#ownsFiles = true;
    this.#launch?.ownFiles(true);
    await this.#serveHealth().catch((err: unknown) => {
      warn(`the health endpoint could not listen: ${errorMessage(err)}`, 'OVERSEER_HEALTH_FAILED');
    });
  }

  /** The old master's sockets this one's config no longer has: they close with the old master. */
  #closeUnused(inherited: Inherited): void {
    const used = new Set(this.#sockets?.handoff?.().sockets.map((s) => s.fd) ?? []);
    for (const s of inherited.sockets.sockets) {
      if (!used.has(s.fd)) os.closeFd(s.fd);
    }
  }

  /** Graceful shutdown: forwards `signal`, waits up to terminateTimeout, then SIGKILLs. */
  shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.#delayedShutdown) return this.#delayedShutdown;
    if (!this.#supervisor.stopping) {
      // After a handoff the service is not stopping: the new master carries it on.
      if (!this.#handedOff) this.#systemd?.stopping();
      debug('master: shutting down (%s), %d workers', signal, this.#supervisor.workers().length);
      this.#updater?.stop();
      const delay = this.#handedOff ? 0 : this.#config.drainDelay;
      if (delay > 0) {
        // /readyz fails from now on; the workers serve on until the load balancer has heard.
        debug('master: drainDelay, draining in %d ms', delay);
        this.#delayedShutdown = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() =>
          this.#supervisor.shutdown(signal),
        );
        return this.#delayedShutdown;
      }
    }
    return this.#supervisor.shutdown(signal);
  }

  async #serveHealth(): Promise<void> {
    if (!this.#config.healthAddress || this.#health) return;
    const { serveHealth } = await import('./health.js');
    this.#health = await serveHealth(this.#config.healthAddress, {
      ready: () => this.#allSlotsReady(),
      stopping: () => this.#delayedShutdown !== undefined || this.#supervisor.stopping,
    });
  }

  /**
   * Under systemd with an FD store, the sockets this master bound go to systemd too: a master
   * that crashes, or that systemd restarts, gets them back (LISTEN_FDS), and the kernel keeps
   * queueing connections on them meanwhile.
   */
  #storeSockets(): void {
    const store = this.#systemd?.store;
    if (!store) return;
    for (const s of this.#sockets?.handoff?.().sockets ?? []) {
      const name = s.fresh ? storedName('config', s.config) : undefined;
      if (name !== undefined) store(name, s.fd);
    }
    this.#launch?.storeRoutes((key, fd) => {
      const name = storedName('route', key);
      if (name !== undefined) store(name, fd);
    });
  }

  /** Every worker slot has a ready worker. */
  #allSlotsReady(): boolean {
    const slots = this.#supervisor.slots;
    return slots.length > 0 && slots.every((s) => s.current?.phase === 'ready');
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
      ...(this.#health ? { health: this.#health.address } : {}),
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
      ...workerEnvironment('run', {
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
      watchHealth: (ms, signal) => crashWithin(this.events, ms, signal),
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
      const control = this.#inherited?.control;
      const opts = {
        path: control?.path ?? c.ipcPath,
        handler: c.handler,
        securityDescriptor: c.ipcSecurityDescriptor,
        ...(control ? { fd: control.fd } : {}),
      };
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
    this.#health?.close();
    this.#sockets?.close(!this.#ownsFiles);
    if (this.#control) this.#control.keepFile = !this.#ownsFiles;
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
