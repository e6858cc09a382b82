// The Worker of overseer/cluster, as node:cluster's: the same fields and methods on both
// sides; what disconnect() and destroy() do depends on the side (primary-worker.ts, child.ts).
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export type WorkerState =
  | 'none'
  | 'online'
  | 'listening'
  | 'disconnecting'
  | 'disconnected'
  | 'destroying'
  | 'dead';

export interface WorkerOptions {
  id?: number;
  /** Its ChildProcess in the primary; `process` itself in the worker. */
  process?: ChildProcess | NodeJS.Process;
  state?: WorkerState;
}

export class WorkerBase extends EventEmitter {
  readonly id: number;
  /**
   * Its ChildProcess in the primary; `process` itself in the worker (typed as node:cluster's
   * types have it: the members both share are what a program uses there).
   */
  readonly process: ChildProcess;
  state: WorkerState;
  /** True once the worker was told to go, or went by itself (disconnect, destroy, reload). */
  exitedAfterDisconnect: boolean | undefined = undefined;

  constructor(options: WorkerOptions = {}) {
    super();
    this.id = Number(options.id ?? 0) | 0;
    this.process = options.process as ChildProcess;
    this.state = options.state ?? 'none';
    if (options.process === undefined) return;
    this.process.on('error', (...args: unknown[]) => this.emit('error', ...args));
    // Only the program's messages: overseer's own travel as Node's internal messages.
    this.process.on('message', (message: unknown, handle: unknown) => this.emit('message', message, handle));
  }

  /** The primary's and the worker's own are in primary.ts and child.ts; a bare Worker has no process. */
  disconnect(): this {
    return this;
  }

  destroy(_signal?: NodeJS.Signals): void {}

  kill(signal?: NodeJS.Signals): void {
    this.destroy(signal);
  }

  /** process.send()'s arguments: message, handle, options, callback. */
  send(message: unknown, ...rest: unknown[]): boolean {
    const send = this.process.send as (...a: unknown[]) => boolean;
    return send.apply(this.process, [message, ...rest]);
  }

  isDead(): boolean {
    const p = this.process as Partial<ChildProcess>;
    return p.exitCode != null || p.signalCode != null;
  }

  isConnected(): boolean {
    return this.process.connected === true;
  }
}

/** node:cluster's Worker: `new Worker(options)`, and also `Worker(options)` without new, as Node allows. */
export const Worker = new Proxy(WorkerBase, {
  apply: (target, _this, args: [WorkerOptions?]) => new target(...args),
}) as typeof WorkerBase & ((options?: WorkerOptions) => WorkerBase);
export type Worker = WorkerBase;
