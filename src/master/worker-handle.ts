// A worker as the supervisor sees it: what it asks of one and what it hears back. The real
// one is a process (worker-process.ts); the supervisor's tests use fakes of the same shape.

export type WorkerPhase = 'starting' | 'ready' | 'draining' | 'exited';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerHandle {
  readonly id: number;
  readonly slot: number;
  readonly pid: number | undefined;
  readonly startedAt: Date;
  readonly readyAt: Date | undefined;
  readonly phase: WorkerPhase;
  /** Set once the master asked it to go (drain, discard): its exit is then expected. */
  readonly drainRequested: boolean;
  /** Resolves when the program is ready; rejects if it fails, exits or times out first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited, whatever the reason (after `ready` settled). */
  readonly exited: Promise<WorkerExit>;
  /**
   * Asks it to drain: the shutdown message (and `signal`), then SIGKILL at `terminateTimeout`;
   * `stopping`: the master is stopping (a restart's old worker is not).
   */
  drain(terminateTimeout: number, signal?: NodeJS.Signals, stopping?: boolean): Promise<WorkerExit>;
  /** Kills a worker that failed to start. Its exit is expected: the failure was already handled. */
  discard(): void;
  kill(signal: NodeJS.Signals): void;
}
