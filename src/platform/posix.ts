// POSIX: listeners are raw fds inherited as 3, 4, …; PDEATHSIG on Linux; signals do the rest.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { constants } from 'node:os';
import { debug } from '../debug.js';
import type { WorkerEnv } from '../env.js';
import { codedError, errorMessage } from '../errors.js';
import { native, nativeAvailable } from '../native.js';
import { openSockets } from '../sockets/posix.js';
import type { Listener } from '../state.js';
import type { Platform } from './types.js';

const FIRST_LISTENER_FD = 3;

async function receiveListeners(env: WorkerEnv): Promise<Listener[]> {
  const listeners: Listener[] = [];
  for (let i = 0; i < env.numFds; i++) {
    const fd = FIRST_LISTENER_FD + i;
    if (nativeAvailable() && !native().describeFd(fd).listening) {
      throw codedError(
        Error,
        'ERR_OVERSEER_BAD_LISTENER',
        `overseer: inherited fd ${fd} is not a listening socket`,
      );
    }
    listeners.push(Object.freeze({ fd, address: env.addresses[i] ?? '' }));
  }
  return listeners;
}

function guardOrphan(env: WorkerEnv): void {
  if (process.platform !== 'linux' || !nativeAvailable()) return;
  try {
    native().setParentDeathSignal(constants.signals.SIGKILL);
  } catch (err) {
    debug('PDEATHSIG: %s', errorMessage(err));
  }
  // The master may have died before prctl: then we were already reparented.
  if (env.masterPid > 0 && process.ppid !== env.masterPid) process.exit(1);
}

/** SIGKILL to the group whose leader is `child` (spawned detached, so setsid made it one). */
function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ESRCH') debug('kill group %d: %s', child.pid, errorMessage(err));
  }
}

export const posix: Platform = {
  supported: nativeAvailable,
  openSockets,
  receiveListeners,
  guardOrphan,
  shutdownSignals: ['SIGTERM', 'SIGINT', 'SIGHUP'],
  restartSignal: true,
  forwardSignals: true,
  ownProcessGroup: true,
  killProcessGroup,
  replaceFile: (tempPath, binPath) => fs.renameSync(tempPath, binPath),
  cleanupAfterUpgrade: () => {},
};
