// POSIX: listeners are raw fds inherited as 3, 4, …; PDEATHSIG on Linux; signals do the rest.
// What only the master needs (making sockets, the control socket) is imported when it is
// first used, so a worker loads none of it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerEnv } from '../contract/env.js';
import type { Listener } from '../contract/listener.js';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { native, nativeAvailable } from './native.js';
import { untrustedFile } from './posix-file-trust.js';
import type { Platform } from './types.js';

const FIRST_LISTENER_FD = 3;
const SIGKILL = 9;

async function receiveListeners(env: Pick<WorkerEnv, 'numFds' | 'addresses'>): Promise<Listener[]> {
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

/**
 * A signal reaches its handlers on a later turn of the event loop, so the loop is held until
 * then: with its servers closed, a program whose loop is otherwise empty would end first, and
 * its handler (its cleanup) would never run.
 */
function signalSelf(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 0) {
    const hold = setInterval(() => {}, 1_000);
    process.prependOnceListener(signal, () => setImmediate(() => clearInterval(hold)));
  }
  process.kill(process.pid, signal);
}

function guardOrphan(masterPid: number): void {
  if (process.platform !== 'linux' || !nativeAvailable()) return;
  try {
    native().setParentDeathSignal(SIGKILL);
  } catch (err) {
    debug('PDEATHSIG: %s', errorMessage(err));
  }
  // The master may have died before prctl: then we were already reparented.
  if (masterPid > 0 && process.ppid !== masterPid) process.exit(1);
}

/** SIGKILL to the group whose leader is `child` (spawned detached, so setsid made it one). */
function killProcessGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (err) {
    if (errorCode(err) !== 'ESRCH') debug('kill group %d: %s', child.pid, errorMessage(err));
  }
}

export const posix: Platform = {
  supported: nativeAvailable,
  openSockets: async (addrs, opts) => (await import('./posix-sockets.js')).openSockets(addrs, opts),
  routedSocket: async (request, opts) =>
    (await import('./posix-sockets.js')).openRoutedSocket(request, opts?.reusePort ?? false),
  closeFd: (fd) => native().close(fd),
  reapOrphans: async () => {
    if (process.platform === 'linux' && process.pid === 1) (await import('./linux-reaper.js')).reapOrphans();
  },
  routedFromFd: async (fd, p) => (await import('./posix-sockets.js')).routedFromFd(fd, p),
  receiveListeners,
  guardOrphan,
  signalSelf,
  controlSocket: async () => (await import('../control/ipc/posix.js')).posix,
  handoff: async () => (await import('./posix-handoff.js')).posixHandoff,
  untrustedFile,
  ipcPathProblem: (p) => (path.isAbsolute(p) ? undefined : `must be '' or an absolute path, got '${p}'`),
  shutdownSignals: ['SIGTERM', 'SIGINT', 'SIGHUP'],
  restartSignal: true,
  forwardSignals: true,
  ownProcessGroup: true,
  killProcessGroup,
  replaceFile: (tempPath, binPath) => fs.renameSync(tempPath, binPath),
  cleanupAfterUpgrade: () => {},
};
