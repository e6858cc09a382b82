// The master core: what run()'s master (master-process.ts) and the overseer/cluster primary
// (cluster/primary.ts) share. It owns the supervisor, the master's events, its name, the
// status (with each process's CPU and memory) and the metrics made from it, the control socket
// (never fatal but for a name another master has: a warning when it cannot listen) and the
// signal handlers. Each master composes it and adds its own: sockets,
// handoff, updater, systemd for run(); node:cluster's API for the primary. The OS seam and
// the clock are passed in, so the core runs in a test on fakes.
import { EventEmitter } from 'node:events';
import type { ControlSocket, ControlSocketOptions } from '../control/control-socket.js';
import type { ApiTarget } from '../control/http-api.js';
import { codedError, errorCode, errorMessage, withCode } from '../errors.js';
import { debug, warn } from '../log.js';
import { platform as realPlatform } from '../os/index.js';
import type { Platform } from '../os/types.js';
import { version } from '../version.js';
import { type AppIdentity, appIdentity } from './app-identity.js';
import { type Clock, realClock } from './clock.js';
import type { MasterEvents } from './events.js';
import { noteFdExhaustion, reportFdExhaustionTo } from './fd-exhaustion.js';
import { renderMetrics } from './metrics.js';
import type { MasterStatus, WorkerStatus } from './status.js';
import { Supervisor, type SupervisorOptions, type SupervisorSeams } from './supervisor.js';
import { UsageSampler } from './usage-sampler.js';
import type { WorkerHandle } from './worker-handle.js';

/** The part of the status only the master that composes the core knows. */
export type OwnStatus = Pick<MasterStatus, 'binHash' | 'binPath' | 'addresses' | 'health' | 'fetcher'>;

/** What trigger-update answers where there is no fetcher; `who`: 'overseer', 'overseer/cluster'. */
export function noFetcher(who: string): Error {
  return codedError(Error, 'ERR_OVERSEER_NO_FETCHER', `${who}: no fetcher is configured`);
}

export interface MasterCoreOptions {
  supervisor: SupervisorOptions;
  /** How a worker starts, and what the master does at the supervisor's milestones. */
  seams: Pick<SupervisorSeams, 'spawn' | 'allReady' | 'restarting' | 'restarted' | 'settled' | 'slotGone'>;
  /** The composing master's part of the status. */
  ownStatus(): OwnStatus;
  /**
   * The app's entry file and its configured name (undefined: the default), read once, when the
   * name is first needed (the cluster primary knows them at its first setup). By default this
   * process's main script, and the default name.
   */
  app?(): { entry: string | undefined; name: string | undefined };
  /** What the control socket asks of the composing master. */
  api: Pick<ApiTarget, 'restart' | 'triggerUpdate' | 'reexec' | 'logs'>;
  /** The master's EventEmitter (the handle currentMaster() gave out); a private one by default. */
  events?: EventEmitter<MasterEvents>;
  /** Where a failed restart or upgrade goes; by default 'error', when anyone listens. */
  reportError?(err: Error): void;
  /** The OS seam; the real one by default. */
  platform?: Platform;
  clock?: Clock;
}

export class MasterCore {
  readonly supervisor: Supervisor;
  readonly events: EventEmitter<MasterEvents>;
  readonly platform: Platform;
  readonly startedAt = new Date();
  /** The control socket's path, once it listens ('' when there is none). */
  ipcPath = '';
  /** Events that control-socket readers lost because they did not keep up. */
  eventsDropped = 0;

  readonly #opts: MasterCoreOptions;
  readonly #signalHandlers = new Map<NodeJS.Signals, () => void>();
  readonly #usage: UsageSampler;
  /** Workers started in each slot so far. */
  readonly #slotStarts = new Map<number, number>();
  /** Each worker's slotRestarts: the workers its slot had started before it. */
  readonly #startedBefore = new WeakMap<WorkerHandle, number>();
  #control: ControlSocket | undefined;
  #identity: AppIdentity | undefined;

  constructor(opts: MasterCoreOptions) {
    this.#opts = opts;
    this.platform = opts.platform ?? realPlatform;
    this.events = opts.events ?? new EventEmitter<MasterEvents>();
    this.#usage = new UsageSampler((pid) => this.platform.processUsage(pid));
    this.supervisor = new Supervisor(opts.supervisor, {
      ...opts.seams,
      spawn: (slot, id) => {
        const before = this.#slotStarts.get(slot) ?? 0;
        const w = opts.seams.spawn(slot, id); // a spawn that throws started no worker
        this.#slotStarts.set(slot, before + 1);
        this.#startedBefore.set(w, before);
        return w;
      },
      clock: opts.clock ?? realClock,
      emit: (event, ...payload) => this.events.emit(event, ...(payload as never)),
      warn,
      reportError: (err) => this.reportError(err),
    });
    reportFdExhaustionTo((err) => this.reportError(err));
  }

  /** The control socket, while it listens. */
  get control(): ControlSocket | undefined {
    return this.#control;
  }

  /** The master's name and its app's directory, fixed when first asked. */
  get identity(): AppIdentity {
    if (this.#identity === undefined) {
      const { entry, name } = this.#opts.app?.() ?? { entry: process.argv[1], name: undefined };
      this.#identity = appIdentity(entry, name);
    }
    return this.#identity;
  }

  /**
   * The process title says which master this is (`ps`, `top`): `overseer: NAME`. run()'s and
   * `overseer run`'s master only: the cluster primary is the program, and keeps its title.
   */
  titleProcess(): void {
    process.title = `overseer: ${this.identity.name}`;
  }

  /**
   * What GET /overseer/status answers, for either master. Asking reads each process's CPU and
   * memory from the OS (at most once a second each).
   */
  status(): MasterStatus {
    const s = this.supervisor;
    const own = this.#opts.ownStatus();
    const live = s.workers().filter((w) => w.phase !== 'exited');
    const [master, ...usage] = this.#usage.sample([
      { pid: process.pid, startedAt: this.startedAt.getTime() },
      ...live.map((w) => ({ pid: w.pid, startedAt: w.startedAt.getTime() })),
    ]);
    const workers: WorkerStatus[] = live.map((w, i) => ({
      id: w.id,
      pid: w.pid,
      slot: w.slot,
      state: w.phase as WorkerStatus['state'],
      startedAt: w.startedAt.toISOString(),
      readyAt: w.readyAt?.toISOString() ?? null,
      slotRestarts: this.#startedBefore.get(w) ?? 0,
      ...usage[i]!,
    }));
    return {
      pid: process.pid,
      binHash: own.binHash,
      binPath: own.binPath,
      workerId: s.newestReady,
      slaveID: s.newestReady,
      restarting: s.restarting,
      restartedAt: s.restartedAt?.toISOString() ?? null,
      restarts: s.restarts,
      restartFailures: s.restartFailures,
      crashes: s.crashes,
      eventsDropped: this.eventsDropped,
      startedAt: this.startedAt.toISOString(),
      addresses: own.addresses,
      workers,
      ipcPath: this.ipcPath,
      ...(own.health === undefined ? {} : { health: own.health }),
      fetcher: own.fetcher,
      version,
      name: this.identity.name,
      appDir: this.identity.appDir,
      ...master!,
    };
  }

  metrics(): string {
    return renderMetrics(this.status(), process.uptime());
  }

  /**
   * The master ends with `code`: a failure says why, and the warning is let out before the
   * caller exits the process (process.emitWarning writes it on a later tick).
   */
  async exitCode(code: number): Promise<number> {
    if (code !== 0) {
      const why = this.supervisor.failure ?? 'a failure';
      warn(`the master exits with ${code}: ${why}`, 'OVERSEER_EXIT_FAILURE');
    }
    await new Promise((resolve) => setImmediate(resolve));
    return code;
  }

  /**
   * 'error' for those who listen. An EventEmitter throws an 'error' nobody listens to, and
   * a failed restart or upgrade must never take the master down: the warning already told.
   */
  reportError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (this.#opts.reportError) this.#opts.reportError(error);
    else if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }

  /**
   * Serves the API on the control socket, at the name's path unless `options` gives one.
   * `options` is read once the control socket's code has loaded (undefined: none). Never fatal
   * (without it, signals still restart and stop the master; the failure is one warning), but
   * where another master serves this master's name (ERR_OVERSEER_NAME_IN_USE), which rejects,
   * unless `how.nameInUse` is 'warn'.
   */
  async openControlSocket(
    options: () => Omit<ControlSocketOptions, 'name'> | undefined,
    how: { unref?: boolean; nameInUse?: 'throw' | 'warn' } = {},
  ): Promise<void> {
    try {
      const { ControlSocket } = await import('../control/control-socket.js');
      const opts = options();
      if (opts === undefined) return;
      const onAcceptError = (err: Error): void => {
        if (noteFdExhaustion(err, 'a control connection could not be accepted')) return;
        debug('control socket: accept failed: %s', errorMessage(err));
        this.reportError(err);
      };
      const named = { ...opts, name: this.identity.name, onAcceptError };
      this.#control = await ControlSocket.open(this.#apiTarget(), named, this.platform);
      if (how.unref) this.#control.unref();
      this.ipcPath = this.#control.path;
    } catch (err) {
      if (errorCode(err) === 'ERR_OVERSEER_NAME_IN_USE' && how.nameInUse !== 'warn') throw err;
      warn(
        `ipc listen failed (${withCode(errorMessage(err), errorCode(err))}). control socket disabled.`,
        'OVERSEER_IPC_DISABLED',
      );
      this.reportError(err);
    }
  }

  /**
   * Rejects with ERR_OVERSEER_NAME_IN_USE when another master serves this master's name, before
   * this one makes a socket or starts a worker (openControlSocket makes sure of it).
   */
  async refuseTakenName(): Promise<void> {
    const { nameInUse } = await import('../control/control-socket.js');
    const err = await nameInUse(this.identity.name, this.platform);
    if (err) throw err;
  }

  /**
   * Installs the signal handlers: `restart` on `restartSignal` (where signals can be
   * delivered), and `shutdown`, when given, on each shutdown signal. close() removes them.
   */
  listenForSignals(on: {
    restartSignal: NodeJS.Signals;
    restart(): void;
    shutdown?(signal: NodeJS.Signals): void;
  }): void {
    // First among the signal's listeners: a program's own (overseer/cluster's primary) may be a
    // once() wrapper, gone from the list by the time a later listener runs and counts them.
    const install = (sig: NodeJS.Signals, handler: () => void): void => {
      this.#signalHandlers.set(sig, handler);
      process.prependListener(sig, handler);
    };
    if (this.platform.restartSignal) install(on.restartSignal, () => on.restart());
    const shutdown = on.shutdown;
    if (shutdown) for (const sig of this.platform.shutdownSignals) install(sig, () => shutdown(sig));
  }

  /** The master is done: its signal handlers go, and its control socket (`keepFile`: its path is a new master's). */
  close(keepFile: boolean): void {
    for (const [sig, handler] of this.#signalHandlers) process.off(sig, handler);
    this.#signalHandlers.clear();
    if (this.#control) this.#control.keepFile = keepFile;
    this.#control?.close();
  }

  #apiTarget(): ApiTarget {
    const { restart, triggerUpdate, reexec, logs } = this.#opts.api;
    return {
      events: this.events,
      status: () => this.status(),
      metrics: () => this.metrics(),
      countDroppedEvents: (n) => {
        this.eventsDropped += n;
      },
      name: () => this.identity.name,
      restart,
      triggerUpdate,
      ...(reexec === undefined ? {} : { reexec }),
      logs,
    };
  }
}
