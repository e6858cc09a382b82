// The supervisor: keeps a worker in every slot, restarts them (overlapping, or in Go's
// sequential order) one slot at a time, coalesces restart requests, replaces crashed
// workers with backoff, and shuts down. It spawns through an injected seam and reads time
// through an injected clock (as tableflip injects its env and process), so every order of
// ready / failed / exit can be tested with fake workers and a fake clock.
//
// A slot's life is its state machine (slot.ts). A restart claims one slot at a time: while
// claimed, what happens in the slot is the restart's to report, so a failed start there is
// a failed restart, not a crash, and no backoff timer is set behind its back.
//
// The exit code (`done`): a stop drains every worker, and whatever status a drained worker
// ends with, it was told to go, so a clean stop is 0. A real failure is non-zero, with a
// warning that says why: the app never started (the same failed start GIVE_UP_AFTER times in
// a row before any worker was ever ready: the master gives up with that status), the master
// was stopped while a slot was crash-looping, a serving worker had to be SIGKILLed during the
// stop (terminateTimeout, or a second signal), or, with noRestart, the crashed worker's code.
import type { WarningCode } from '../codes.js';
import type { RestartMode } from '../config.js';
import { codedError, errorCode, errorMessage } from '../errors.js';
import type { BackoffOptions } from './backoff.js';
import type { Clock } from './clock.js';
import type { MasterEvents, RestartResult } from './events.js';
import { exitCodeOf } from './exit-code.js';
import { Slot } from './slot.js';
import type { WorkerExit, WorkerHandle } from './worker-handle.js';

export interface SupervisorOptions {
  workers: number;
  restartMode: RestartMode;
  terminateTimeout: number;
  /** A crash ends the master with the worker's exit code instead of a replacement (Go's way). */
  noRestart: boolean;
  /** Whether shutdown forwards its signal to ready workers (not where signals cannot reach them). */
  forwardSignals: boolean;
  backoff?: BackoffOptions;
  /**
   * true (run(), `overseer run`): a worker that dies is replaced, after its backoff. false
   * (overseer/cluster, as node:cluster): its slot goes, and the program decides.
   */
  replace?: boolean;
  /** What the workers run, as the warnings name it (`overseer run`'s script, run()'s entry). */
  program?: string;
}

/**
 * A master whose workers never became ready gives up once a slot's worker failed to start
 * this many times in a row, each time with the same exit status, as systemd's start limit does.
 */
export const GIVE_UP_AFTER = 5;

/** A stop signal that, on a master already stopping, means "now" (SIGHUP's second is ignored). */
export function meansNow(signal: NodeJS.Signals): boolean {
  return signal !== 'SIGHUP';
}

/** Why the master ends with a failure: its exit code, and what the warning says. */
interface Failure {
  code: number;
  why: string;
}

export interface SupervisorSeams {
  /** Starts worker `id` in slot `slot`. */
  spawn(slot: number, id: number): WorkerHandle;
  clock: Clock;
  emit<K extends keyof MasterEvents>(event: K, ...payload: MasterEvents[K]): void;
  warn(message: string, code: WarningCode): void;
  /** A failed restart, for 'error' listeners. */
  reportError(err: Error): void;
  /** Every slot has a ready worker, for the first time (systemd READY=1). */
  allReady?(): void;
  /** A restart begins (systemd RELOADING=1). */
  restarting?(): void;
  /** A restart ended, either way (systemd READY=1). */
  restarted?(result: RestartResult): void;
  /** No restart runs and every worker the last one drained has exited. */
  settled?(): void;
  /** Slot `slot` is gone for good (replace: false): what its owner keeps for it can go. */
  slotGone?(slot: number): void;
}

/** What a supervisor carries over to its successor in a new master (a handoff). */
export interface SupervisorCounters {
  restarts: number;
  restartFailures: number;
  crashes: number;
  /** The id the next worker gets, so a new master's ids follow the old one's (absent from an older overseer). */
  nextWorkerId?: number;
}

export class Supervisor {
  readonly #slots: Slot[];
  /** Resolves with the exit code once shutdown is complete. */
  readonly done: Promise<number>;
  restarts = 0;
  restartFailures = 0;
  crashes = 0;
  restartedAt: Date | undefined;
  /** The newest ready worker's id (0 before the first). */
  newestReady = 0;
  /** The id the next worker gets. */
  nextWorkerId = 1;

  readonly #opts: SupervisorOptions;
  readonly #seams: SupervisorSeams;
  readonly #alive = new Set<WorkerHandle>();
  /** When each worker started and became ready, on the clock (a worker's own Dates are the wall's). */
  readonly #times = new WeakMap<WorkerHandle, { started: number; ready?: number }>();
  /** Workers a restart started: their failure is the restart's, not a crash. */
  readonly #forRestart = new WeakSet<WorkerHandle>();
  #nextSlot = 0;
  #running: Promise<RestartResult> | undefined;
  #queued: Promise<RestartResult> | undefined;
  #stopping = false;
  /** A stop is on its way (drainDelay): no restart begins, though the workers serve on. */
  #stopComing = false;
  /** Workers a restart had retired (draining) when the stop began: their SIGKILL is no failure. */
  readonly #retiredBeforeStop = new Set<WorkerHandle>();
  #announced = false;
  /** The first real failure, which the exit code reports; none: a clean stop. */
  #failure: Failure | undefined;
  /** Slots whose last worker crashed (or failed to start) and none has been ready since. */
  readonly #failing = new Map<Slot, string>();
  /** Before any worker was ever ready: each slot's failed starts in a row with one status. */
  readonly #failedStarts = new Map<Slot, { status: number; count: number }>();
  #finish: (code: number) => void = () => {};

  constructor(opts: SupervisorOptions, seams: SupervisorSeams) {
    this.#opts = opts;
    this.#seams = seams;
    this.#slots = Array.from({ length: opts.workers }, (_, i) => new Slot(i, opts.backoff));
    this.#nextSlot = opts.workers;
    this.done = new Promise<number>((resolve) => {
      this.#finish = resolve;
    });
  }

  get restarting(): boolean {
    return this.#running !== undefined;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  /** Stopping, or about to (drainDelay): nothing new begins, no restart, no handoff. */
  get stopRequested(): boolean {
    return this.#stopping || this.#stopComing;
  }

  /** Why `done` is not 0 (the master's first real failure), for the master's last warning. */
  get failure(): string | undefined {
    return this.#failure?.why;
  }

  /** The slots, in order. */
  get slots(): readonly Slot[] {
    return [...this.#slots];
  }

  /** A new slot with a worker starting in it (cluster.fork()). */
  addSlot(): WorkerHandle {
    const slot = new Slot(this.#nextSlot++, this.#opts.backoff);
    this.#slots.push(slot);
    let w: WorkerHandle;
    try {
      w = this.#spawn(slot);
    } catch (err) {
      // The caller's, as node:cluster's fork() throws it; no slot is left for a worker never forked.
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      throw err;
    }
    // A program that forks from its 'exit' handler while the master stops: the stop goes on.
    if (this.#stopping) void w.drain(this.#opts.terminateTimeout, undefined, true);
    return w;
  }

  /** Every worker that has not exited, oldest first. */
  workers(): WorkerHandle[] {
    return [...this.#alive];
  }

  /** The counters a new master carries on (a handoff). */
  counters(): Required<SupervisorCounters> {
    const { restarts, restartFailures, crashes, nextWorkerId } = this;
    return { restarts, restartFailures, crashes, nextWorkerId };
  }

  /**
   * Carries on the counters of the master this one replaces (a handoff), before the first
   * worker starts. They come from another process: what is not a count is left as it is.
   */
  restore(from: Partial<Record<keyof SupervisorCounters, unknown>>): void {
    const count = (v: unknown, min = 0): v is number => Number.isSafeInteger(v) && (v as number) >= min;
    if (count(from.restarts)) this.restarts = from.restarts;
    if (count(from.restartFailures)) this.restartFailures = from.restartFailures;
    if (count(from.crashes)) this.crashes = from.crashes;
    if (count(from.nextWorkerId, 1)) this.nextWorkerId = from.nextWorkerId;
  }

  /** Starts a worker in every slot. */
  start(): void {
    for (const slot of this.#slots) this.#spawnOrRetry(slot);
  }

  /**
   * A stop is on its way (drainDelay): the workers serve on, but a restart is refused as during
   * the stop, and one under way ends before its next slot.
   */
  stopComing(): void {
    this.#stopComing = true;
  }

  /**
   * A rolling restart of every slot. Calls made while one runs are coalesced into a single
   * follow-up restart, which they all share.
   */
  restart(reason = 'api'): Promise<RestartResult> {
    if (this.stopRequested) {
      const error = codedError(Error, 'ERR_OVERSEER_SHUTTING_DOWN', 'overseer: the master is shutting down');
      return Promise.resolve({ ok: false, reason, durationMs: 0, replaced: 0, error });
    }
    if (this.#running === undefined) {
      this.#running = this.#rollingRestart(reason).finally(() => {
        this.#running = undefined;
        this.#maybeSettled();
      });
      return this.#running;
    }
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.restart(reason);
    });
    return this.#queued;
  }

  /** Resolves once no restart runs or waits (a handoff then hands over workers that serve). */
  async restartsDone(): Promise<void> {
    while (this.#running !== undefined) await (this.#queued ?? this.#running).catch(() => {});
  }

  /**
   * Graceful shutdown: every worker drains (with `signal` forwarded where it can be), and is
   * SIGKILLed at terminateTimeout. A second SIGINT/SIGTERM means "now".
   */
  shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.#stopping) {
      if (meansNow(signal)) for (const w of this.#alive) w.kill('SIGKILL');
      return this.done;
    }
    this.#stopping = true;
    // A restart's old workers, still draining: not serving, so no failure if killed.
    for (const w of this.#alive) if (w.drainRequested) this.#retiredBeforeStop.add(w);
    const [failing] = this.#failing.values();
    if (failing !== undefined) this.#fail(1, `it was stopped while ${failing}`);
    for (const slot of this.#slots) {
      if (slot.state === 'waiting') this.#seams.clock.clearTimeout(slot.stopWaiting());
    }
    const forward = this.#opts.forwardSignals ? signal : undefined;
    for (const w of this.#alive) void w.drain(this.#opts.terminateTimeout, forward, true);
    this.#maybeFinish();
    return this.done;
  }

  /** Starts the slot's next worker and wires up what becomes of it. */
  #spawn(slot: Slot, forRestart = false): WorkerHandle {
    // Taken before the spawn, which forks a process and may take ms: startupMs is fork → ready.
    const started = this.#seams.clock.now();
    const w = this.#seams.spawn(slot.index, this.nextWorkerId++);
    this.#times.set(w, { started });
    this.#alive.add(w);
    if (forRestart) this.#forRestart.add(w);
    slot.begin(w);
    this.#seams.emit('fork', { workerId: w.id, pid: w.pid, slot: slot.index });
    // Attached first, so these run before anyone else who awaits the same promises.
    w.ready.then(
      () => this.#onReady(slot, w),
      (err: unknown) => this.#onFailed(slot, w, err),
    );
    void w.exited.then((exit) => this.#onExit(slot, w, exit));
    return w;
  }

  /**
   * #spawn where no one awaits the worker: a first start, a replacement. A spawn that throws
   * (child_process.spawn() throws what Node does not make the child's 'error': ENOMEM from the
   * fork at a memory limit, E2BIG, ENOTDIR; under Wine, once, a first spawn) is a worker that
   * could not start: a warning, and the slot tries again after its backoff, where the throw
   * would have ended the master (from a timer, as an uncaught exception). In a restart or a
   * cluster.fork() the throw is the caller's. Only a master that replaces its workers starts
   * slots (overseer/cluster's has none until a fork) and plans replacements.
   */
  #spawnOrRetry(slot: Slot): void {
    try {
      this.#spawn(slot);
    } catch (err) {
      if (this.#stopping) return;
      const why = `a worker for slot ${slot.index} could not be started: ${errorMessage(err)}`;
      this.#failing.set(slot, `worker slot ${slot.index} had no worker serving: ${why}`);
      const delay = this.#replaceLater(slot, 0);
      this.#seams.warn(`${why}; trying again in ${delay} ms`, 'OVERSEER_WORKER_FAILED');
    }
  }

  #onReady(slot: Slot, w: WorkerHandle): void {
    if (slot.incoming !== w) return; // stopped before it was ready: stale
    this.newestReady = Math.max(this.newestReady, w.id);
    this.#failing.delete(slot);
    const times = this.#times.get(w)!;
    times.ready = this.#seams.clock.now();
    const startupMs = Math.round(times.ready - times.started);
    this.#seams.emit('ready', { workerId: w.id, pid: w.pid, slot: slot.index, startupMs });
    const old = slot.promote(w);
    if (old) void old.drain(this.#opts.terminateTimeout);
    if (!this.#announced && this.#slots.every((s) => s.current !== undefined)) {
      this.#announced = true;
      this.#seams.allReady?.();
    }
  }

  #onFailed(slot: Slot, w: WorkerHandle, err: unknown): void {
    if (slot.incoming !== w) return;
    w.discard();
    slot.dropIncoming(w);
    if (!this.#forRestart.has(w) && !this.#stopping && !this.#replaces) {
      this.#forget(slot);
      return;
    }
    // A restart reports its own worker's failure; a shutdown stopped it on purpose.
    if (this.#forRestart.has(w) || this.#stopping) return;
    void w.exited.then((exit) => {
      // The error names the worker and what went wrong ('worker 3 failed to start: …').
      this.#seams.warn(errorMessage(err), 'OVERSEER_WORKER_FAILED');
      this.#crashed(slot, w, exit, this.#startStatus(err, exit));
    });
  }

  /**
   * The exit status of a worker that ended its own start (it exited, or its program threw):
   * what the give-up rule counts. undefined for a start the master ended (readyTimeout).
   */
  #startStatus(err: unknown, exit: WorkerExit): number | undefined {
    const code = errorCode(err);
    if (code === 'ERR_OVERSEER_WORKER_EXITED') return exitCodeOf(exit.code, exit.signal);
    // It said it failed, then exited with 1; the master may have killed it first.
    if (code === 'ERR_OVERSEER_WORKER_FAILED') return 1;
    return undefined;
  }

  #onExit(slot: Slot, w: WorkerHandle, exit: WorkerExit): void {
    this.#alive.delete(w);
    const retired = this.#retiredBeforeStop.has(w);
    this.#retiredBeforeStop.delete(w);
    if (this.#stopping && exit.signal === 'SIGKILL' && w.readyAt !== undefined && !retired) {
      this.#fail(1, `worker ${w.id} (pid ${w.pid}) was SIGKILLed before it had drained`);
    }
    const expected = w.drainRequested || this.#stopping;
    this.#seams.emit('exit', {
      workerId: w.id,
      pid: w.pid,
      slot: slot.index,
      code: exit.code,
      signal: exit.signal,
      expected,
    });
    if (this.#stopping) {
      this.#maybeFinish();
      return;
    }
    const wasCurrent = slot.current === w;
    if (wasCurrent) slot.dropCurrent(w);
    if (expected) {
      // A serving worker that was told to go (cluster's worker.disconnect()): its slot goes.
      if (wasCurrent && slot.state === 'empty' && !slot.claimed) this.#forget(slot);
      this.#maybeSettled();
      return;
    }
    // A worker that never became ready was handled when its readiness failed.
    if (wasCurrent) this.#crashed(slot, w, exit);
  }

  get #replaces(): boolean {
    return this.#opts.replace !== false;
  }

  /** A slot without a worker, where nothing replaces one: it goes. */
  #forget(slot: Slot): void {
    if (this.#replaces || slot.state !== 'empty' || slot.claimed) return;
    const i = this.#slots.indexOf(slot);
    if (i < 0) return;
    this.#slots.splice(i, 1);
    this.#seams.slotGone?.(slot.index);
  }

  /**
   * A worker died outside the master's wish, or failed to start outside a restart
   * (`startStatus`: the status it ended its own start with).
   */
  #crashed(slot: Slot, w: WorkerHandle, exit: WorkerExit, startStatus?: number): void {
    if (this.#stopping) return;
    this.crashes++;
    const base = {
      workerId: w.id,
      pid: w.pid,
      slot: slot.index,
      code: exit.code,
      signal: exit.signal,
      expected: false,
    };
    const how = exit.signal ?? `code ${exit.code}`;
    /** No replacement: the master stops, and exits with `code`. */
    const end = (code: number, why: string): void => {
      this.#seams.emit('crash', { ...base, restartInMs: undefined });
      this.#fail(code, why);
      void this.shutdown('SIGTERM');
    };
    if (this.#opts.noRestart) {
      end(exitCodeOf(exit.code, exit.signal), `worker ${w.id} died (${how}) and noRestart is set`);
      return;
    }
    const status = this.#givesUp(slot, startStatus);
    if (status !== undefined) {
      const program = this.#opts.program ?? 'the program';
      end(
        status === 0 ? 1 : status,
        `${program} failed to start ${GIVE_UP_AFTER} times in a row, each time with status ${status}, and was never ready: giving up`,
      );
      return;
    }
    if (!this.#replaces) {
      this.#seams.emit('crash', { ...base, restartInMs: undefined });
      this.#forget(slot);
      return;
    }
    const readyAt = this.#times.get(w)?.ready;
    const healthyFor = readyAt === undefined ? 0 : this.#seams.clock.now() - readyAt;
    // A slot that still has a worker starting, or that a restart holds, needs no replacement.
    const delay = slot.state === 'empty' && !slot.claimed ? this.#replaceLater(slot, healthyFor) : undefined;
    const started = w.readyAt === undefined ? `failed to start (${how})` : `died (${how})`;
    this.#failing.set(
      slot,
      `worker slot ${slot.index} had no worker serving: its last one, ${w.id}, ${started}`,
    );
    this.#seams.warn(
      `worker ${w.id} (pid ${w.pid}) died (${how})${delay === undefined ? '' : `; restarting it in ${delay} ms`}`,
      'OVERSEER_WORKER_CRASHED',
    );
    this.#seams.emit('crash', { ...base, restartInMs: delay });
  }

  /** Plans the empty slot's next worker after its backoff; returns the delay. */
  #replaceLater(slot: Slot, healthyFor: number): number {
    const delay = slot.backoff.next(healthyFor);
    const timer = this.#seams.clock.setTimeout(() => {
      if (slot.state !== 'waiting' || slot.timer !== timer) return; // cancelled meanwhile
      slot.stopWaiting();
      this.#spawnOrRetry(slot);
    }, delay);
    slot.wait(timer);
    return delay;
  }

  async #rollingRestart(reason: string): Promise<RestartResult> {
    const t0 = this.#seams.clock.now();
    this.#seams.restarting?.();
    let replaced = 0;
    let result: RestartResult;
    try {
      for (const slot of [...this.#slots]) {
        if (!this.#slots.includes(slot)) continue; // gone meanwhile (its worker left)
        await this.#replace(slot);
        replaced++;
      }
      this.restarts++;
      this.restartedAt = new Date();
      result = { ok: true, reason, durationMs: Math.round(this.#seams.clock.now() - t0), replaced };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.restartFailures++;
      this.#seams.warn(
        `restart failed, the running workers keep serving: ${error.message}`,
        'OVERSEER_RESTART_FAILED',
      );
      this.#seams.reportError(error);
      result = { ok: false, reason, durationMs: Math.round(this.#seams.clock.now() - t0), replaced, error };
    }
    this.#seams.restarted?.(result);
    this.#seams.emit('restart', result);
    return result;
  }

  /** Replaces one slot's worker; throws when the new one fails (the old one, if any, stays). */
  async #replace(slot: Slot): Promise<void> {
    slot.claimed = true;
    try {
      // A worker already starting here (a first start, a crash replacement) settles first.
      if (slot.state === 'starting') await slot.incoming!.ready.catch(() => {});
      if (slot.state === 'waiting') this.#seams.clock.clearTimeout(slot.stopWaiting());
      this.#mustNotBeStopping();
      if (this.#opts.restartMode === 'sequential' && slot.state === 'serving') {
        await slot.release().drain(this.#opts.terminateTimeout);
        this.#mustNotBeStopping();
      }
      // Overlap: the old worker drains only once this one is ready (#onReady).
      await this.#spawn(slot, true).ready;
    } finally {
      slot.claimed = false;
      if (slot.state === 'empty' && !this.#stopping) {
        if (this.#replaces) this.#replaceLater(slot, 0);
        else this.#forget(slot);
      }
    }
  }

  #mustNotBeStopping(): void {
    if (this.stopRequested) {
      throw codedError(Error, 'ERR_OVERSEER_SHUTTING_DOWN', 'overseer: shutdown during restart');
    }
  }

  #maybeSettled(): void {
    if (this.#running !== undefined || this.#stopping) return;
    for (const w of this.#alive) if (w.drainRequested) return;
    this.#seams.settled?.();
  }

  /**
   * Counts a failed start while no worker was ever ready; returns its status once the slot
   * has failed so GIVE_UP_AFTER times in a row. A start the master ended (undefined) breaks the row.
   */
  #givesUp(slot: Slot, status: number | undefined): number | undefined {
    if (this.newestReady > 0) return undefined;
    const row = this.#failedStarts.get(slot);
    if (status === undefined) {
      this.#failedStarts.delete(slot);
      return undefined;
    }
    const count = row?.status === status ? row.count + 1 : 1;
    this.#failedStarts.set(slot, { status, count });
    return count >= GIVE_UP_AFTER ? status : undefined;
  }

  /** Records the master's first real failure: the exit code it ends with, and why. */
  #fail(code: number, why: string): void {
    this.#failure ??= { code, why };
  }

  #maybeFinish(): void {
    if (!this.#stopping || this.#alive.size > 0) return;
    this.#finish(this.#failure?.code ?? 0);
  }
}
