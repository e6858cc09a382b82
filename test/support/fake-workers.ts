// Fakes for the supervisor's seams: workers whose life the test drives by hand, and a clock
// that moves only when told. A fake worker settles its promises in the order a real one does
// (readiness first, then the exit), so the supervisor sees what it would see in production.
import type { Clock, Timer } from '../../src/master/clock.js';
import type { WorkerExit, WorkerHandle, WorkerPhase } from '../../src/master/worker-handle.js';

export class FakeClock implements Clock {
  private t = 1_000_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(timer: Timer): void {
    this.timers.delete(timer as number);
  }

  /** Pending timers' delays from now, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.t).sort((a, b) => a - b);
  }

  /** Moves time on, firing each timer that falls due, in order. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= until)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = until;
  }
}

export class FakeWorker implements WorkerHandle {
  phase: WorkerPhase = 'starting';
  readyAt: Date | undefined;
  drainRequested = false;
  readonly startedAt: Date;
  readonly pid: number;
  readonly ready: Promise<void>;
  readonly exited: Promise<WorkerExit>;
  readonly drains: { timeout: number; signal: NodeJS.Signals | undefined }[] = [];
  readonly kills: NodeJS.Signals[] = [];
  /** Exit (code 0) as soon as asked to drain, as a program that closes its servers does. */
  exitOnDrain = true;
  private settleReady!: (err?: Error) => void;
  private settleExit!: (e: WorkerExit) => void;

  /** `clock`: where its Dates come from (the fake clock, or the wall's as a real worker's). */
  constructor(
    readonly id: number,
    readonly slot: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.pid = 10_000 + id;
    this.startedAt = new Date(clock.now());
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => {
      this.settleExit = resolve;
    });
  }

  becomeReady(): void {
    if (this.phase !== 'starting') return; // a stale 'ready' is ignored, as the real one does
    this.phase = 'ready';
    this.readyAt = new Date(this.clock.now());
    this.settleReady();
  }

  /** The program threw before it was ready. */
  fail(message = 'failing on purpose'): void {
    if (this.phase !== 'starting') return;
    // As the real one says it: the worker first.
    const err = new Error(`worker ${this.id} failed to start: ${message}`);
    this.settleReady(Object.assign(err, { code: 'ERR_OVERSEER_WORKER_FAILED' }));
  }

  /** It was not ready within readyTimeout (the master kills it). */
  timeOut(): void {
    if (this.phase !== 'starting') return;
    const err = new Error(`worker ${this.id} was not ready within readyTimeout`);
    this.settleReady(Object.assign(err, { code: 'ERR_OVERSEER_READY_TIMEOUT' }));
  }

  exit(code: number | null = 0, signal: NodeJS.Signals | null = null): void {
    if (this.phase === 'exited') return;
    if (this.phase === 'starting') {
      this.settleReady(
        Object.assign(new Error('exited before ready'), { code: 'ERR_OVERSEER_WORKER_EXITED' }),
      );
    }
    this.phase = 'exited';
    this.settleExit({ code, signal });
  }

  drain(timeout: number, signal?: NodeJS.Signals): Promise<WorkerExit> {
    if (this.phase === 'exited') return this.exited;
    this.drainRequested = true;
    this.drains.push({ timeout, signal });
    if (this.phase === 'starting') {
      this.settleReady(Object.assign(new Error('stopped'), { code: 'ERR_OVERSEER_WORKER_STOPPED' }));
    }
    this.phase = 'draining';
    if (this.exitOnDrain) queueMicrotask(() => this.exit(0));
    return this.exited;
  }

  discard(): void {
    this.drainRequested = true;
    this.kill('SIGKILL');
  }

  kill(signal: NodeJS.Signals): void {
    if (this.phase === 'exited') return;
    this.kills.push(signal);
    if (signal === 'SIGKILL') queueMicrotask(() => this.exit(null, 'SIGKILL'));
  }
}

/** Lets every pending promise reaction run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
