// The master's lifecycle: it owns the listening sockets, keeps `workers` workers running,
// restarts them without an accept gap, replaces crashed ones with backoff, and shuts down
// on SIGTERM/SIGINT/SIGHUP, exiting with the last worker's exit code.
import { EventEmitter } from 'node:events';
import type { Binary } from './binary.js';
import type { ResolvedConfig } from './config.js';
import { ControlSocket } from './control-socket.js';
import { debug, warn } from './debug.js';
import { workerEnvironment } from './env.js';
import { codedError, errorMessage } from './errors.js';
import type { CrashEvent, MasterEvents, RestartResult, UpdateOutcome } from './events.js';
import { exitCodeOf } from './exit-code.js';
import { collectGarbage } from './heap.js';
import { renderMetrics } from './metrics.js';
import { platform } from './platform/index.js';
import { createSlot, type Slot } from './slot.js';
import type { MasterSockets } from './sockets/types.js';
import type { MasterStatus, WorkerStatus } from './status.js';
import { systemdNotifier } from './systemd.js';
import { Updater } from './upgrade/updater.js';
import { version } from './version.js';
import { type WorkerExit, WorkerProcess } from './worker-process.js';

/** How long after a restart's last drained worker exits the master compacts its heap. */
const COMPACT_DELAY_MS = 1_000;

export class Master extends EventEmitter<MasterEvents> {
  readonly pid = process.pid;
  readonly startedAt = new Date();
  binHash: string;
  readonly binPath: string;
  restartedAt: Date | undefined;
  restarts = 0;
  restartFailures = 0;
  crashes = 0;
  /** Events that control-socket readers lost because they did not keep up. */
  eventsDropped = 0;
  /** The control socket's path, once it listens ('' when there is none). */
  ipcPath = '';
  /** Resolves with the exit code once the master has shut down. */
  readonly done: Promise<number>;

  readonly binary: Binary;
  private readonly config: ResolvedConfig;
  private sockets: MasterSockets | undefined;
  private readonly slots: Slot[] = [];
  private readonly alive = new Set<WorkerProcess>();
  private nextWorkerId = 1;
  private newestReady = 0;
  private running: Promise<RestartResult> | undefined;
  private queued: Promise<RestartResult> | undefined;
  private shuttingDown = false;
  private lastExit: WorkerExit | undefined;
  private forcedExitCode: number | undefined;
  private finish: (code: number) => void = () => {};
  private readonly signalHandlers = new Map<NodeJS.Signals, () => void>();
  private control: ControlSocket | undefined;
  private readonly updater: Updater | undefined;
  private readonly systemd = systemdNotifier();
  private announcedReady = false;
  private compactTimer: NodeJS.Timeout | undefined;

  constructor(config: ResolvedConfig, binary: Binary, binHash: string) {
    super();
    this.config = config;
    this.binary = binary;
    this.binHash = binHash;
    this.binPath = binary.path;
    this.done = new Promise<number>((resolve) => {
      this.finish = resolve;
    });
    this.updater = this.createUpdater();
  }

  get restarting(): boolean {
    return this.running !== undefined;
  }

  get addresses(): readonly string[] {
    return this.sockets?.addresses ?? [];
  }

  /** Makes the sockets, installs the signal handlers and starts the first workers. */
  async start(): Promise<void> {
    const { workers, reusePort, backlog } = this.config;
    this.sockets = await platform.openSockets(this.config.addresses, {
      sets: reusePort ? workers : 1,
      reusePort,
      backlog,
    });
    this.emit('listening', { addresses: this.sockets.addresses });
    this.installSignals();
    await this.startControlSocket();
    for (let i = 0; i < workers; i++) {
      const slot = createSlot(i);
      this.slots.push(slot);
      void this.startSlot(slot);
    }
    this.updater?.start(); // after the forks: the first fetch never delays the first worker
  }

  /**
   * An overlapping (or sequential) rolling restart of every worker. Calls made while one
   * runs are coalesced into a single follow-up restart, which they all share.
   */
  restart(reason = 'api'): Promise<RestartResult> {
    if (this.shuttingDown) {
      const error = codedError(Error, 'ERR_OVERSEER_SHUTTING_DOWN', 'overseer: the master is shutting down');
      return Promise.resolve({ ok: false, reason, durationMs: 0, replaced: 0, error });
    }
    if (this.running === undefined) {
      this.running = this.rollingRestart(reason).finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    this.queued ??= this.running.then(() => {
      this.queued = undefined;
      return this.restart(reason);
    });
    return this.queued;
  }

  /** Graceful shutdown: forwards `signal`, waits up to terminateTimeout, then SIGKILLs. */
  shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.shuttingDown) {
      // A second SIGINT/SIGTERM means "now": skip the rest of the drain.
      if (signal !== 'SIGHUP') for (const w of this.alive) w.kill('SIGKILL');
      return this.done;
    }
    this.shuttingDown = true;
    this.systemd?.stopping();
    debug('master: shutting down (%s), %d workers', signal, this.alive.size);
    for (const slot of this.slots) clearTimeout(slot.replaceTimer);
    this.updater?.stop();
    const forward = platform.forwardSignals ? signal : undefined;
    for (const w of this.alive) void w.drain(this.config.terminateTimeout, forward);
    this.maybeFinish();
    return this.done;
  }

  status(): MasterStatus {
    const workers: WorkerStatus[] = [...this.alive]
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
      workerId: this.newestReady,
      slaveID: this.newestReady,
      restarting: this.restarting,
      restartedAt: this.restartedAt?.toISOString() ?? null,
      restarts: this.restarts,
      restartFailures: this.restartFailures,
      crashes: this.crashes,
      eventsDropped: this.eventsDropped,
      startedAt: this.startedAt.toISOString(),
      addresses: this.addresses,
      workers,
      ipcPath: this.ipcPath,
      fetcher: this.updater?.status() ?? null,
      version,
    };
  }

  /** One fetch cycle now (joining one under way); resolves with what it came to. */
  triggerUpdate(): Promise<UpdateOutcome> {
    if (!this.updater) {
      return Promise.reject(
        codedError(Error, 'ERR_OVERSEER_NO_FETCHER', 'overseer: no fetcher is configured'),
      );
    }
    return this.updater.trigger();
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
        this.off('crash', onCrash);
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
      this.on('crash', onCrash);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The numbers of status(), in Prometheus text format. */
  metrics(): string {
    return renderMetrics(this.status(), process.uptime());
  }

  private fork(slot: Slot): WorkerProcess {
    const id = this.nextWorkerId++;
    const sockets = this.sockets!;
    const fds = sockets.fdsFor(slot.index);
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
    const w = new WorkerProcess(
      id,
      slot.index,
      {
        ...this.binary.commandFor(this.binary.path),
        env,
        fds,
        handles: sockets
          .handlesFor(slot.index)
          .map((handle, i) => ({ handle, address: sockets.addresses[i] ?? '' })),
      },
      this.config.readyTimeout,
    );
    this.alive.add(w);
    const base = { workerId: id, pid: w.pid, slot: slot.index };
    this.emit('fork', base);
    w.ready.then(
      () => {
        this.newestReady = Math.max(this.newestReady, id);
        this.emit('ready', { ...base, startupMs: Date.now() - w.startedAt.getTime() });
      },
      () => {},
    );
    w.once('exit', (exit: WorkerExit) => this.onWorkerExit(w, exit));
    return w;
  }

  /** Starts a worker in an empty slot; a failure counts as a crash and is retried with backoff. */
  private async startSlot(slot: Slot): Promise<void> {
    const w = this.fork(slot);
    slot.incoming = w;
    try {
      await w.ready;
      slot.incoming = undefined;
      slot.current = w;
      this.announceReady();
    } catch (err) {
      slot.incoming = undefined;
      w.discard();
      const exit = await w.exited;
      warn(`worker ${w.id} failed to start: ${errorMessage(err)}`, 'OVERSEER_WORKER_FAILED');
      this.crashed(w, slot, exit);
    }
  }

  private async rollingRestart(reason: string): Promise<RestartResult> {
    const t0 = Date.now();
    debug('master: restart (%s, %s)', reason, this.config.restartMode);
    this.systemd?.reloading();
    let result: RestartResult;
    let replaced = 0;
    try {
      for (const slot of this.slots) {
        await this.settleSlot(slot);
        if (this.shuttingDown) {
          throw codedError(Error, 'ERR_OVERSEER_SHUTTING_DOWN', 'overseer: shutdown during restart');
        }
        if (this.config.restartMode === 'overlap') await this.overlapSlot(slot);
        else await this.sequentialSlot(slot);
        replaced++;
      }
      this.restarts++;
      this.restartedAt = new Date();
      result = { ok: true, reason, durationMs: Date.now() - t0, replaced };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.restartFailures++;
      warn(`restart failed, the running workers keep serving: ${error.message}`, 'OVERSEER_RESTART_FAILED');
      this.reportError(error);
      result = { ok: false, reason, durationMs: Date.now() - t0, replaced, error };
    }
    this.systemd?.ready(
      result.ok ? `restarted in ${result.durationMs} ms` : `restart failed: ${result.error?.message}`,
    );
    this.emit('restart', result);
    return result;
  }

  /** A restart takes over a slot: a pending crash replacement is cancelled or waited for. */
  private async settleSlot(slot: Slot): Promise<void> {
    for (let i = 0; i < 10 && (slot.incoming || slot.replaceTimer); i++) {
      clearTimeout(slot.replaceTimer);
      slot.replaceTimer = undefined;
      const starting = slot.incoming;
      if (starting) await starting.ready.catch(() => starting.exited);
    }
  }

  /** Start the new worker, wait until it is ready, and only then drain the old one. */
  private async overlapSlot(slot: Slot): Promise<void> {
    const next = await this.startIncoming(slot);
    const old = slot.current;
    slot.current = next;
    this.announceReady();
    if (old) void old.drain(this.config.terminateTimeout);
  }

  /** Go's order, for programs that cannot run twice at once: drain, wait for exit, start. */
  private async sequentialSlot(slot: Slot): Promise<void> {
    const old = slot.current;
    slot.current = undefined;
    if (old) await old.drain(this.config.terminateTimeout);
    slot.current = await this.startIncoming(slot);
    this.announceReady();
  }

  /**
   * Forks the slot's next worker and waits until it is ready. One that fails is discarded
   * (its exit is then expected) and the error rethrown; a slot left empty gets a replacement.
   */
  private async startIncoming(slot: Slot): Promise<WorkerProcess> {
    const next = this.fork(slot);
    slot.incoming = next;
    try {
      await next.ready;
    } catch (err) {
      next.discard();
      slot.incoming = undefined;
      if (!slot.current) this.scheduleReplace(slot, 0);
      throw err;
    }
    slot.incoming = undefined;
    return next;
  }

  private onWorkerExit(w: WorkerProcess, exit: WorkerExit): void {
    this.alive.delete(w);
    this.lastExit = exit;
    const slot = this.slots[w.slot]!;
    const expected = w.drainRequested || this.shuttingDown;
    this.emit('exit', {
      workerId: w.id,
      pid: w.pid,
      slot: w.slot,
      code: exit.code,
      signal: exit.signal,
      expected,
    });
    if (this.shuttingDown) {
      this.maybeFinish();
      return;
    }
    if (expected) this.compactSoon();
    // A worker still starting belongs to whoever started it (startSlot or a restart).
    if (expected || slot.incoming === w) return;
    if (slot.current === w) slot.current = undefined;
    this.crashed(w, slot, exit);
  }

  private crashed(w: WorkerProcess, slot: Slot, exit: WorkerExit): void {
    if (this.shuttingDown) return;
    this.crashes++;
    const base = {
      workerId: w.id,
      pid: w.pid,
      slot: w.slot,
      code: exit.code,
      signal: exit.signal,
      expected: false,
    };
    if (this.config.noRestart) {
      this.emit('crash', { ...base, restartInMs: undefined });
      this.forcedExitCode = exitCodeOf(exit.code, exit.signal);
      void this.shutdown('SIGTERM');
      return;
    }
    const healthyFor = w.readyAt ? Date.now() - w.readyAt.getTime() : 0;
    const delay = slot.incoming || this.running ? undefined : this.scheduleReplace(slot, healthyFor);
    warn(
      `worker ${w.id} (pid ${w.pid}) died (${exit.signal ?? `code ${exit.code}`})${delay === undefined ? '' : `; restarting it in ${delay} ms`}`,
      'OVERSEER_WORKER_CRASHED',
    );
    this.emit('crash', { ...base, restartInMs: delay });
  }

  private scheduleReplace(slot: Slot, healthyFor: number): number | undefined {
    if (this.shuttingDown || slot.replaceTimer || slot.incoming) return undefined;
    const delay = slot.backoff.next(healthyFor);
    slot.replaceTimer = setTimeout(() => {
      slot.replaceTimer = undefined;
      if (!this.shuttingDown && !slot.current && !slot.incoming) void this.startSlot(slot);
    }, delay);
    return delay;
  }

  /** Once a restart has settled (its drained workers gone), one full GC returns their memory. */
  private compactSoon(): void {
    clearTimeout(this.compactTimer);
    this.compactTimer = setTimeout(() => {
      if (this.running || this.alive.size > this.slots.length) return this.compactSoon();
      collectGarbage();
    }, COMPACT_DELAY_MS);
    this.compactTimer.unref();
  }

  private maybeFinish(): void {
    if (!this.shuttingDown || this.alive.size > 0) return;
    clearTimeout(this.compactTimer);
    for (const [sig, handler] of this.signalHandlers) process.off(sig, handler);
    this.signalHandlers.clear();
    this.sockets?.close();
    this.control?.close();
    const code =
      this.forcedExitCode ?? (this.lastExit ? exitCodeOf(this.lastExit.code, this.lastExit.signal) : 0);
    debug('master: done, exit code %d', code);
    this.finish(code);
  }

  private createUpdater(): Updater | undefined {
    const c = this.config;
    if (!c.fetcher) return undefined;
    const options = {
      minFetchInterval: c.minFetchInterval,
      keepReleases: c.keepReleases,
      sanityCheckTimeout: c.sanityCheckTimeout,
      noRestartAfterFetch: c.noRestartAfterFetch,
      preUpgrade: c.preUpgrade,
      upgradeHealthWindow: c.upgradeHealthWindow,
    };
    return new Updater(c.fetcher, options, {
      binary: this.binary,
      getHash: () => this.binHash,
      setHash: (hash) => {
        this.binHash = hash;
      },
      restart: (reason) => this.restart(reason),
      watchHealth: (ms, signal) => this.watchHealth(ms, signal),
      onUpgrade: (event) => {
        this.emit('upgrade', event);
        if (event.result !== 'failed') return;
        const code = event.code ?? 'ERR_OVERSEER_UPGRADE_FAILED';
        this.reportError(codedError(Error, code, `upgrade failed: ${event.reason}`));
      },
      onError: (err) => this.reportError(err),
    });
  }

  /**
   * The control socket comes up after the signal handlers and before the first fork. It
   * is never fatal: without it, signals still restart and stop the master.
   */
  private async startControlSocket(): Promise<void> {
    const c = this.config;
    if (c.ipcPath === '') return;
    try {
      const opts = { path: c.ipcPath, handler: c.handler, securityDescriptor: c.ipcSecurityDescriptor };
      this.control = await ControlSocket.open(this, opts);
      this.ipcPath = this.control.path;
    } catch (err) {
      warn(`ipc listen failed (${errorMessage(err)}). control socket disabled.`, 'OVERSEER_IPC_DISABLED');
      this.reportError(err);
    }
  }

  /** systemd hears READY=1 once, when every slot first has a ready worker. */
  private announceReady(): void {
    if (this.announcedReady || this.slots.some((s) => !s.current)) return;
    this.announcedReady = true;
    this.systemd?.ready(
      `${this.slots.length} worker(s) ready on ${this.addresses.join(', ') || 'no address'}`,
    );
  }

  /**
   * 'error' for those who listen. An EventEmitter throws an 'error' nobody listens to, and
   * a failed restart or upgrade must never take the master down: the warning already told.
   */
  private reportError(err: unknown): void {
    if (this.listenerCount('error') > 0)
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  private installSignals(): void {
    const on = (sig: NodeJS.Signals, handler: () => void): void => {
      this.signalHandlers.set(sig, handler);
      process.on(sig, handler);
    };
    if (platform.restartSignal) on(this.config.restartSignal, () => void this.restart('signal'));
    for (const sig of platform.shutdownSignals) on(sig, () => void this.shutdown(sig));
  }
}
