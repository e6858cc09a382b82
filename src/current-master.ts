// The master as the program sees it: what currentMaster() returns, right after run() is
// called and before any master code has loaded, so that no event is missed. It is the
// master's EventEmitter; its methods reach the master once it runs.
import { EventEmitter } from 'node:events';
import { codedError } from './errors.js';
import type { MasterEvents, ReexecEvent, RestartResult, UpdateOutcome } from './master/events.js';
import type { MasterStatus } from './master/status.js';

/** What the running master does for its handle (master/master-process.ts). */
export interface RunningMaster {
  readonly ipcPath: string;
  readonly binHash: string;
  readonly binPath: string;
  readonly done: Promise<number>;
  status(): MasterStatus;
  metrics(): string;
  restart(reason: string): Promise<RestartResult>;
  triggerUpdate(): Promise<UpdateOutcome>;
  reexec(command?: readonly string[]): Promise<ReexecEvent>;
  shutdown(signal?: NodeJS.Signals): Promise<number>;
}

const engines = new WeakMap<Master, RunningMaster>();
const attached = new WeakMap<Master, (engine: RunningMaster) => void>();

export class Master extends EventEmitter<MasterEvents> {
  readonly pid = process.pid;
  readonly #engine: Promise<RunningMaster>;

  constructor() {
    super();
    this.#engine = new Promise((resolve) => attached.set(this, resolve));
  }

  /** The control socket's path, once it listens ('' before, and when there is none). */
  get ipcPath(): string {
    return engines.get(this)?.ipcPath ?? '';
  }

  /** The sha256 of the running version of the program's entry file ('' before start). */
  get binHash(): string {
    return engines.get(this)?.binHash ?? '';
  }

  /** Resolves with the exit code once the master has shut down. */
  get done(): Promise<number> {
    return this.#engine.then((e) => e.done);
  }

  /** What GET /overseer/status answers. */
  status(): MasterStatus {
    return this.#running().status();
  }

  /** The status in Prometheus text format. */
  metrics(): string {
    return this.#running().metrics();
  }

  /** An overlapping rolling restart of every worker; requests during one share the next. */
  async restart(reason = 'api'): Promise<RestartResult> {
    return (await this.#engine).restart(reason);
  }

  /** One fetch cycle now (joining one under way). */
  async triggerUpdate(): Promise<UpdateOutcome> {
    return (await this.#engine).triggerUpdate();
  }

  /** Hands this master's sockets to a new master (`command`, or the same command line). */
  async reexec(command?: readonly string[]): Promise<ReexecEvent> {
    return (await this.#engine).reexec(command);
  }

  /** Graceful shutdown, as SIGTERM does; resolves with the exit code. */
  async shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    return (await this.#engine).shutdown(signal);
  }

  #running(): RunningMaster {
    const e = engines.get(this);
    if (e === undefined) {
      throw codedError(Error, 'ERR_OVERSEER_NOT_RUNNING', 'overseer: the master has not started yet');
    }
    return e;
  }
}

/** Connects a handle to the master that now runs it. */
export function attachRunningMaster(master: Master, engine: RunningMaster): void {
  engines.set(master, engine);
  attached.get(master)?.(engine);
}
