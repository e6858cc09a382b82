// The worker side: receive the listeners the master passed, build State, run the program,
// report readiness, and drain on shutdown. Workers never poll: a dead master is noticed
// through the IPC channel's disconnect (a normal exit), with PDEATHSIG as the backstop.
import { type Config, type ResolvedConfig, resolveConfig } from '../config.js';
import { takeWorkerEnvironment, type WorkerEnv } from '../contract/env.js';
import {
  failedMessage,
  type MasterMessage,
  message,
  onMessages,
  type WorkerMessage,
} from '../contract/messages.js';
import { errorMessage } from '../errors.js';
import { configureLogging, debug } from '../log.js';
import { platform } from '../os/index.js';
import { send, WorkerRemote, watchMaster } from './remote.js';
import { buildState } from './state.js';

export interface StartedWorker {
  /** restart() and triggerUpdate() as this worker asks them of its master. */
  remote: WorkerRemote;
  /** Resolves once the program is ready (and the master told). */
  ready: Promise<void>;
}

/** Throws a coded TypeError for a bad config, before anything starts. */
export function startWorker(input: Config): StartedWorker {
  const config = resolveConfig(input);
  configureLogging(config);
  const env = takeWorkerEnvironment('run');
  return { remote: new WorkerRemote(env, config.restartSignal), ready: runWorker(config, env) };
}

async function runWorker(config: ResolvedConfig, env: WorkerEnv<'run'>): Promise<void> {
  watchMaster(env.masterPid, () => {
    debug('worker %d: the master is gone, exiting', env.workerId);
    process.exit(1);
  });
  // Retired: the drain begins, and gracefulShutdown follows once the clients are off.
  const retire = new AbortController();
  const beginShutdown = (why: string): void => {
    if (retire.signal.aborted) return;
    debug('worker %d: graceful shutdown (%s)', env.workerId, why);
    retire.abort(new Error(`overseer: worker shutdown (${why})`));
    // From here on the worker lives only as long as its own handles: once the program
    // has closed its servers, it exits by itself. The master SIGKILLs at terminateTimeout.
    process.channel?.unref();
  };
  onMessages<MasterMessage>(process, (m) => {
    if (m.act === 'shutdown') beginShutdown('master');
  });
  for (const sig of platform.shutdownSignals) process.on(sig, () => beginShutdown(sig));

  try {
    const state = buildState({
      enabled: true,
      id: env.binHash,
      workerId: env.workerId,
      listeners: await platform.receiveListeners(env),
      retire: retire.signal,
      binPath: env.binPath,
      ipcPath: env.ipcPath,
      terminateTimeout: config.terminateTimeout,
      upgradeGrace: config.upgradeGrace,
    });
    await config.program(state);
  } catch (err) {
    debug('worker %d: program failed: %s', env.workerId, errorMessage(err));
    console.error(err);
    await send(failedMessage(errorMessage(err), err instanceof Error ? err.stack : undefined));
    process.exit(1);
  }
  debug('worker %d: ready', env.workerId);
  await send(message<WorkerMessage>({ act: 'ready' }));
}
