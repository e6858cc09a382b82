// One worker process as the master sees it: spawn, readiness, drain and exit. Every
// transition happens once; a message that arrives after the exit is stale and ignored.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { isWorkerMessage, type MasterMessage, TAG } from '../contract/messages.js';
import { codedError } from '../errors.js';
import { debug, warn } from '../log.js';
import type { ListenerPassing } from '../os/index.js';
import type { WorkerExit, WorkerHandle, WorkerPhase } from './worker-handle.js';

export interface SpawnSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How this worker gets its listeners (inherited fds, or handles sent on request). */
  listeners: ListenerPassing;
}

export class WorkerProcess implements WorkerHandle {
  readonly id: number;
  readonly slot: number;
  readonly startedAt = new Date();
  readyAt: Date | undefined;
  phase: WorkerPhase = 'starting';
  /** Set once the master asked this worker to go; its exit is then expected. */
  drainRequested = false;
  exit: WorkerExit | undefined;
  readonly child: ChildProcess;
  /** Resolves when the program is ready; rejects if it fails, exits or times out first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<WorkerExit>;
  private killTimer: NodeJS.Timeout | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  private settleReady: (err?: Error) => void = () => {};

  constructor(id: number, slot: number, spec: SpawnSpec, readyTimeout: number) {
    this.id = id;
    this.slot = slot;
    // stdio: 0-2 shared with the master, the listeners (POSIX) at 3…, then the IPC channel.
    const stdio: StdioOptions = ['inherit', 'inherit', 'inherit', ...spec.listeners.stdio, 'ipc'];
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    // Nobody may be awaiting readiness (a worker replaced after a crash); don't let that be unhandled.
    this.ready.catch(() => {});
    let settleExit: (e: WorkerExit) => void = () => {};
    this.exited = new Promise<WorkerExit>((resolve) => {
      settleExit = resolve;
    });

    this.child = spawn(spec.command, spec.args, { stdio, env: spec.env, serialization: 'json' });
    debug('worker %d (slot %d) spawned as pid %s', id, slot, this.child.pid);
    spec.listeners.attach(this.child);

    this.readyTimer = setTimeout(() => {
      if (this.phase !== 'starting') return;
      this.settleReady(
        codedError(
          Error,
          'ERR_OVERSEER_READY_TIMEOUT',
          `worker ${id} was not ready within ${readyTimeout} ms`,
        ),
      );
      this.kill('SIGKILL');
    }, readyTimeout);

    this.child.on('message', (m: unknown) => {
      if (!isWorkerMessage(m) || this.phase === 'exited') return; // stale or not ours
      if (m[TAG] === 'ready' && this.phase === 'starting') {
        this.phase = 'ready';
        this.readyAt = new Date();
        clearTimeout(this.readyTimer);
        this.settleReady();
      } else if (m[TAG] === 'failed' && this.phase === 'starting') {
        const err = codedError(
          Error,
          'ERR_OVERSEER_WORKER_FAILED',
          `worker ${id} failed to start: ${m.message}`,
        );
        if (m.stack) err.stack = m.stack;
        clearTimeout(this.readyTimer);
        this.settleReady(err);
      }
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.phase === 'exited') return;
      const wasStarting = this.phase === 'starting';
      this.phase = 'exited';
      this.exit = { code, signal };
      clearTimeout(this.killTimer);
      clearTimeout(this.readyTimer);
      if (wasStarting) {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        this.settleReady(
          codedError(
            Error,
            'ERR_OVERSEER_WORKER_EXITED',
            `worker ${id} exited with ${how} before it was ready`,
          ),
        );
      }
      debug('worker %d (pid %s) exited: code %s signal %s', id, this.child.pid, code, signal);
      settleExit(this.exit);
    };
    this.child.on('exit', onExit);
    this.child.on('error', (err) => {
      // spawn failed (EAGAIN, ENOMEM…): there will be no 'exit' event.
      debug('worker %d: %s', id, err.message);
      if (this.child.pid === undefined) onExit(null, null);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Asks the worker to drain: the shutdown message (and `signal` when given, as the Go
   * master forwards signals), then SIGKILL at `terminateTimeout`.
   */
  drain(terminateTimeout: number, signal?: NodeJS.Signals): Promise<WorkerExit> {
    if (this.phase === 'exited') return this.exited;
    this.drainRequested = true;
    // Only a ready worker gets the signal, and before the message: a worker still starting
    // may not have its handlers yet, and one that has already begun to exit (it drained on
    // the message) has dropped them, so the signal's default action would turn its clean
    // exit into a death by signal.
    if (signal !== undefined && this.phase === 'ready') this.kill(signal);
    if (this.phase === 'draining') return this.exited;
    if (this.phase === 'starting') {
      const stopped = `worker ${this.id} was stopped before it was ready`;
      this.settleReady(codedError(Error, 'ERR_OVERSEER_WORKER_STOPPED', stopped));
    }
    this.phase = 'draining';
    const message: MasterMessage = { [TAG]: 'shutdown' };
    if (this.child.connected)
      this.child.send(message, (err) => err && debug('shutdown message: %s', err.message));
    this.killTimer = setTimeout(() => {
      warn(
        `worker ${this.id} (pid ${this.child.pid}) had not exited ${terminateTimeout} ms (terminateTimeout) after it was asked to drain; killed`,
        'OVERSEER_WORKER_KILLED',
      );
      this.kill('SIGKILL');
    }, terminateTimeout);
    return this.exited;
  }

  /** Kills a worker that failed to start. Its exit is expected: the failure was already handled. */
  discard(): void {
    this.drainRequested = true;
    this.kill('SIGKILL');
  }

  kill(signal: NodeJS.Signals): void {
    if (this.phase === 'exited') return;
    try {
      this.child.kill(signal);
    } catch (err) {
      debug('kill %s: %s', signal, (err as Error).message);
    }
  }
}
