// run(): one call for both sides. It only picks the side, like node's lib/cluster.js: in a
// worker it loads the worker side (and nothing of the master's), in the master the master
// side. restart() and triggerUpdate() go to whichever side this process is.
import type { Config } from './config.js';
import { isWorkerProcess } from './contract/env.js';
import { sanityCheck } from './contract/sanity-check.js';
import { Master } from './current-master.js';
import { codedError } from './errors.js';
import type { ReexecEvent, UpdateOutcome } from './master/events.js';
import type { WorkerRemote } from './worker/remote.js';

let master: Master | undefined;
let worker: WorkerRemote | undefined;
/** run() was called in this worker: set before its first await, so a second call sees it. */
let workerRunning = false;

const alreadyRunning = (): Error =>
  codedError(Error, 'ERR_OVERSEER_ALREADY_RUNNING', 'overseer: run() was already called');

/** The master of this process, from the moment run() is called (undefined in workers). */
export function currentMaster(): Master | undefined {
  return master;
}

/** Each side validates the config itself (config.ts), so `import 'overseer'` loads neither. */
export async function run(config: Config): Promise<void> {
  sanityCheck();
  if (isWorkerProcess()) {
    if (workerRunning) throw alreadyRunning();
    workerRunning = true;
    const { startWorker } = await import('./worker/start.js');
    const started = startWorker(config);
    worker = started.remote;
    return started.ready;
  }
  if (master) throw alreadyRunning();
  const m = new Master(); // before any await, so no event is missed
  master = m;
  try {
    const { startMaster } = await import('./master/start.js');
    await startMaster(config, m, () => {
      if (master === m) master = undefined;
    });
  } catch (err) {
    if (master === m) master = undefined; // a bad config, or no way to run: nothing runs
    throw err;
  }
}

/** Restarts the workers: directly in the master, by the restart signal (or the control socket) from a worker. */
export function restart(): void {
  if (master) {
    void master.restart('api');
    return;
  }
  if (worker) {
    worker.restart();
    return;
  }
  throw codedError(
    Error,
    'ERR_OVERSEER_NOT_RUNNING',
    'overseer: restart() needs a running overseer (call run() first)',
  );
}

/**
 * Checks for a new version now. In the master it runs a fetch cycle (joining one under way)
 * and resolves with its outcome. In a worker it asks the master over the control socket,
 * and falls back to the restart signal when the socket cannot be reached.
 */
export async function triggerUpdate(): Promise<UpdateOutcome | { result: 'signalled' }> {
  if (master) return master.triggerUpdate();
  if (worker) return worker.triggerUpdate();
  throw codedError(Error, 'ERR_OVERSEER_NOT_RUNNING', 'overseer: triggerUpdate() needs a running overseer');
}

/**
 * Replaces the master itself (a new Node, a new overseer, a new config) without closing a
 * socket: a new master (`command`, by default the same command line) takes over every
 * listener and the control socket, starts its workers, and only once they are ready does this
 * master drain its own and exit. If the new one fails, it is killed and this one carries on;
 * the result says why. POSIX only. In a worker, it asks the master over the control socket.
 */
export async function reexec(command?: readonly string[]): Promise<ReexecEvent> {
  if (
    command !== undefined &&
    (!Array.isArray(command) ||
      command.length === 0 ||
      command.some((a) => typeof a !== 'string') ||
      command[0] === '')
  ) {
    throw codedError(
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      "overseer: reexec(command): command must be an array of strings, the program's path first",
    );
  }
  if (master) return master.reexec(command);
  if (worker) {
    if (command !== undefined) {
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_VALUE',
        'overseer: reexec(command) in a worker: the master starts its successor with its own command line (call reexec() with no command)',
      );
    }
    return worker.reexec();
  }
  throw codedError(Error, 'ERR_OVERSEER_NOT_RUNNING', 'overseer: reexec() needs a running overseer');
}
