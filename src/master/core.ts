// The master core: what run()'s master (master-process.ts) and the overseer/cluster primary
// (cluster/primary.ts) share. It owns the supervisor, the master's events, the status and
// the metrics made from it, the control socket (never fatal: a warning when it cannot
// listen) and the signal handlers. Each master composes it and adds its own: sockets,
// handoff, updater, systemd for run(); node:cluster's API for the primary. The OS seam and
// the clock are passed in, so the core runs in a test on fakes.
import { EventEmitter } from 'node:events';
import type { ControlSocket, ControlSocketOptions } from '../control/control-socket.js';
import type { ApiTarget } from '../control/http-api.js';
import { codedError, errorMessage } from '../errors.js';
import { debug, warn } from '../log.js';
import { platform as realPlatform } from '../os/index.js';
import type { Platform } from '../os/types.js';
import { version } from '../version.js';
import { type Clock, realClock } from './clock.js';
import type { MasterEvents } from './events.js';
import { noteFdExhaustion, reportFdExhaustionTo } from './fd-exhaustion.js';
import { renderMetrics } from './metrics.js';
import type { MasterStatus, WorkerStatus } from './status.js';
import { Supervisor, type SupervisorOptions, type SupervisorSeams } from './supervisor.js';

/** The part of the status only the master that composes the core knows. */
export type OwnStatus = Pick<MasterStatus, 'binHash' | 'binPath' | 'addresses' | 'health' | 'fetcher'>;

/** What trigger-update answers where there is no fetcher; `who`: 'overseer', 'overseer/cluster'. */
export function noFetcher(who: string): Error {
  return codedError(Error, 'ERR_OVERSEER_NO_FETCHER', `${who}: no fetcher is configured`);
}

export interface MasterCoreOptions {
  supervisor: SupervisorOptions;
  /** How a worker starts, and what the master does at the supervisor's milestones. */
  seams: Pick<SupervisorSeams, 'spawn' | 'allReady' | 'restarting' | 'restarted' | 'settled'>;
  /** The composing master's part of the status. */
  ownStatus(): OwnStatus;
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
  #control: ControlSocket | undefined;

  constructor(opts: MasterCoreOptions) {
    this.#opts = opts;
    this.platform = opts.platform ?? realPlatform;
    this.events = opts.events ?? new EventEmitter<MasterEvents>();
    this.supervisor = new Supervisor(opts.supervisor, {
      ...opts.seams,
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

  /** What GET /overseer/status answers, for either master. */
  status(): MasterStatus {
    const s = this.supervisor;
    const own = this.#opts.ownStatus();
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
    };
  }

  metrics(): string {
    return renderMetrics(this.status(), process.uptime());
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
   * Serves the API on the control socket. `options` is read once the control socket's code
   * has loaded (undefined: none). Never fatal: without it, signals still restart and stop
   * the master; the failure is one warning.
   */
  async openControlSocket(
    options: () => ControlSocketOptions | undefined,
    how: { unref?: boolean } = {},
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
      this.#control = await ControlSocket.open(this.#apiTarget(), { ...opts, onAcceptError }, this.platform);
      if (how.unref) this.#control.unref();
      this.ipcPath = this.#control.path;
    } catch (err) {
      warn(`ipc listen failed (${errorMessage(err)}). control socket disabled.`, 'OVERSEER_IPC_DISABLED');
      this.reportError(err);
    }
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
    const install = (sig: NodeJS.Signals, handler: () => void): void => {
      this.#signalHandlers.set(sig, handler);
      process.on(sig, handler);
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
      restart,
      triggerUpdate,
      ...(reexec === undefined ? {} : { reexec }),
      logs,
    };
  }
}
