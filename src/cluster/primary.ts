// overseer/cluster in the primary: node:cluster's API, on overseer's engine. Workers are
// slots of the same supervisor as run()'s (without replacement: a worker that dies is gone,
// as in node:cluster, and the program decides), listens are routed to sockets the primary
// makes and keeps while its workers serve them (so the port stays open, and queues, while a
// crashed worker is not back yet), the primary never accepts, and cluster.reload() is an
// overlapping, readiness-gated restart, which keeps the program's worker count: a fork() it
// makes for a retired worker returns the worker the reload put in its place (replacements.ts).

import { EventEmitter } from 'node:events';
import { debug } from '../log.js';
import { MasterCore, noFetcher } from '../master/core.js';
import type { RestartResult } from '../master/events.js';
import { exitOnceWritten } from '../master/exit-once-written.js';
import { ListenRoutes } from '../master/listen-routes.js';
import type { Slot } from '../master/slot.js';
import { SlotListens } from '../master/slot-listens.js';
import { WorkerProcess } from '../master/worker-process.js';
import { DEFAULTS } from '../option-table.js';
import { passedFds } from '../os/activation.js';
import { platform as realPlatform } from '../os/index.js';
import type { Platform } from '../os/types.js';
import { PrimaryWorker } from './primary-worker.js';
import { programListeners } from './program-listeners.js';
import { type InPlace, Replacements } from './replacements.js';
import { policyFromEnv, SCHED_NONE, SCHED_RR } from './scheduling.js';
import { type ClusterSettings, checkSettings, workerSpawnSpec } from './settings.js';
import { Worker } from './worker.js';

export type { ClusterSettings };
export { SCHED_NONE, SCHED_RR };

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

  readonly #routes = new ListenRoutes();
  /** What each worker serves: when a reload's new worker is ready, and which routed sockets stay. */
  readonly #slots = new SlotListens(this.#routes, false);
  readonly #envs = new Map<number, NodeJS.ProcessEnv>();
  readonly #facades = new Map<WorkerProcess, PrimaryWorker>();
  readonly #replacements = new Replacements<PrimaryWorker>();
  readonly #afterDisconnect: (() => void)[] = [];
  #hearsGone = false;
  readonly #core: MasterCore;
  #setUp = false;
  #nextEnv: NodeJS.ProcessEnv = {};

  /** `platform`: the OS seam, the real one unless a test passes a fake. */
  constructor(platform: Platform = realPlatform) {
    super();
    // node:cluster's functions do not need their object: `const { fork } = cluster` works.
    this.fork = this.fork.bind(this);
    this.setupPrimary = this.setupPrimary.bind(this);
    this.setupMaster = this.setupMaster.bind(this);
    this.disconnect = this.disconnect.bind(this);
    this.reload = this.reload.bind(this);
    const primary = this;
    this.#core = new MasterCore({
      platform,
      supervisor: {
        workers: 0,
        restartMode: 'overlap',
        // Read at each use: a later setupPrimary() may change it, as node:cluster's settings do.
        get terminateTimeout() {
          return primary.settings.terminateTimeout ?? DEFAULTS.terminateTimeout;
        },
        noRestart: false,
        // A stop retires the workers as a reload does; node:cluster's never hear the primary's signal.
        forwardSignals: false,
        replace: false,
      },
      // A worker starts outside any handler's context: a fork() in its own handlers is a fork.
      seams: {
        spawn: (slot, id) => this.#replacements.outside(() => this.#spawn(slot, id)),
        // Its fork(env) is for the slot's workers, a reload's too: kept while the slot is.
        slotGone: (slot) => this.#envs.delete(slot),
      },
      reportError: (err) => debug('cluster: %s', err.message),
      app: () => ({ entry: this.settings.exec, name: this.settings.name }),
      ownStatus: () => ({
        binHash: '',
        binPath: this.settings.exec ?? '',
        addresses: this.#routes.addresses(),
        fetcher: null,
      }),
      api: {
        restart: () => this.reload(),
        triggerUpdate: () => Promise.reject(noFetcher('overseer/cluster')),
      },
    });
  }

  setupPrimary(options: ClusterSettings = {}): void {
    const settings: ClusterSettings = {
      args: process.argv.slice(2),
      exec: process.argv[1],
      execArgv: process.execArgv,
      silent: false,
      ...this.settings,
      ...options,
    };
    // A call that fails the check changes nothing: later calls and fork() go on as before it.
    checkSettings(settings);
    this.settings = settings;
    process.nextTick(() => this.emit('setup', settings));
    if (this.#setUp) return;
    this.#setUp = true;
    this.#core.listenForSignals({
      restartSignal: 'SIGUSR2',
      // A program with its own SIGUSR2 listener (a rolling restart of its own) keeps it, as
      // under node:cluster: two restarts at once would leave it more workers than it forks.
      // 1: overseer's own, which runs this.
      restart: () => {
        if (programListeners('SIGUSR2', 1) === 0) void this.reload();
      },
      shutdown: (signal) => this.#stop(signal),
    });
    passedFds(); // socket activation: for the workers' listens, and out of their environment
    // No retitling, unlike run()'s master: the primary is the program, and its title (its own,
    // or its command line, which `pgrep -f`/`pkill -f` read) stays, as under node:cluster.
    // The control socket (`overseer status`, `overseer restart`) never keeps the primary alive.
    // The primary is the program itself: another primary of its name is a warning, not an exit.
    void this.#core.openControlSocket(
      () => (this.settings.ipcPath === '' ? undefined : { path: this.settings.ipcPath }),
      { unref: true, nameInUse: 'warn' },
    );
  }

  setupMaster(options?: ClusterSettings): void {
    this.setupPrimary(options);
  }

  fork(env: NodeJS.ProcessEnv = {}): PrimaryWorker {
    this.setupPrimary();
    // Made for a worker a reload retired (in its disconnect or exit handlers): the reload's own
    // worker in its place stands for it, as the program asked for no more workers than before.
    const replacement = this.#replacements.forFork();
    if (replacement !== undefined) return replacement;
    this.#nextEnv = env;
    try {
      const handle = this.#core.supervisor.addSlot() as WorkerProcess;
      return this.#facades.get(handle)!;
    } finally {
      this.#nextEnv = {}; // the slot's own now (#envs), and gone with it
    }
  }

  /**
   * As node:cluster's: each worker leaves cluster.workers at once, and the callbacks come when
   * a worker is both dead and disconnected and none is left (on the next tick, with none to
   * disconnect), not when the channels close.
   */
  disconnect(cb?: () => void): void {
    const workers = Object.values(this.workers);
    for (const w of workers) if (w.isConnected()) w.disconnect();
    if (typeof cb === 'function') this.#afterDisconnect.push(cb);
    if (!this.#hearsGone) {
      this.#hearsGone = true;
      // Before the program's own listeners, as node:cluster calls back before it emits.
      this.prependListener('exit', () => this.#allGone());
      this.prependListener('disconnect', (w: PrimaryWorker) => w.isDead() && this.#allGone());
    }
    if (workers.length === 0) process.nextTick(() => this.#allGone());
  }

  /** cluster.disconnect()'s callbacks, once no worker is left. */
  #allGone(): void {
    if (Object.keys(this.workers).length > 0) return;
    for (const cb of this.#afterDisconnect.splice(0)) cb();
  }

  /**
   * A rolling, overlapping restart of every worker: each new worker is ready (it listens on
   * what its predecessor serves: slot-listens.ts; online, if that is nothing) before its
   * predecessor drains. A new worker that fails leaves the old one serving.
   */
  reload(): Promise<RestartResult> {
    if (!this.#setUp) return Promise.resolve({ ok: true, reason: 'reload', durationMs: 0, replaced: 0 });
    return this.#core.supervisor.restart('reload');
  }

  #spawn(slot: number, id: number): WorkerProcess {
    const s = this.settings;
    // A new slot's is fork()'s; kept once a worker started (a fork that throws leaves no slot).
    const env = this.#envs.get(slot) ?? this.#nextEnv;
    const predecessor = this.#slot(slot)?.current as WorkerProcess | undefined;
    const handle = new WorkerProcess(
      id,
      slot,
      workerSpawnSpec(s, id, env, this.#slots.route(slot)),
      s.readyTimeout ?? DEFAULTS.readyTimeout,
    );
    this.#envs.set(slot, env);
    const worker = new PrimaryWorker(
      handle,
      this,
      predecessor,
      (w) => this.#forget(w),
      (w, emit) => this.#replacements.whileGoing(this.#inPlaceOf(w), emit),
    );
    this.#slots.follow(handle);
    this.#slots.readyWhenServing(handle, ['online', 'listening']);
    this.#facades.set(handle, worker);
    this.workers[id] = worker;
    // Every new worker, cluster.fork()'s and reload()'s, is announced as node:cluster does.
    process.nextTick(() => this.emit('fork', worker));
    return handle;
  }

  #slot(index: number): Slot | undefined {
    return this.#core.supervisor.slots.find((x) => x.index === index);
  }

  /**
   * For a worker that goes: when a reload has put another worker in its slot (it retired this
   * one, or this one was its new worker and failed), the live worker there at each ask.
   */
  #inPlaceOf(w: PrimaryWorker): InPlace<PrimaryWorker> | undefined {
    const slot = this.#slot(w.handle.slot);
    if (slot?.current === undefined || slot.current === w.handle) return undefined;
    return () => {
      const now = slot.current as WorkerProcess | undefined;
      return now?.phase === 'ready' && !now.drainRequested ? this.#facades.get(now) : undefined;
    };
  }

  /**
   * A stop signal that the program does not handle itself (without overseer, it would end
   * the primary): every worker drains, as a reload retires it, and the primary exits 0, or
   * non-zero with a warning when a worker had to be killed, once its own output is written.
   * A program that listens for the signal (throng does) keeps its own stop, as under
   * node:cluster; signal-exit's listeners are not a stop of its own (program-listeners.ts).
   * A second signal: at once.
   */
  #stop(signal: NodeJS.Signals): void {
    if (programListeners(signal, 1) > 0) return; // 1: overseer's own, which runs this
    const stopping = this.#core.supervisor.stopping;
    const done = this.#core.supervisor.shutdown(signal);
    if (stopping) return;
    this.#routes.shut(); // new connections refused once the workers have closed theirs
    void done.then(async (code) => {
      this.#core.close(false);
      await exitOnceWritten(await this.#core.exitCode(code));
    });
  }

  /** Out of cluster.workers. */
  #forget(worker: PrimaryWorker): void {
    if (this.workers[worker.id] !== worker) return;
    delete this.workers[worker.id];
    this.#facades.delete(worker.handle);
  }
}

/** The one primary-side cluster object of this process. */
export const cluster = new ClusterPrimary();
