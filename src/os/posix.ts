// POSIX: listeners are raw fds inherited as 3, 4, …; each worker's channel is the master's own
// (handles go over it by SCM_RIGHTS); the orphan guard on Linux; signals do the rest.
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
import { ownUsage, procfsUsage } from './process-usage.js';
import type { Platform } from './types.js';

const FIRST_LISTENER_FD = 3;
/** sun_path's size less its NUL: 108 bytes on Linux, 104 on macOS and the BSDs. */
const UNIX_PATH_MAX = process.platform === 'linux' ? 107 : 103;

/**
 * Why no unix socket can be bound at `p` (it is too long), or undefined. Checked up front: the
 * addon's bind fails with ENAMETOOLONG, so the master would run with no control socket, and
 * Node's own (libuv) cuts the path short, so the socket would lie where nothing looks for it
 * and two long names could meet at one path.
 */
export function unixPathProblem(p: string): string | undefined {
  const bytes = Buffer.byteLength(p);
  return bytes > UNIX_PATH_MAX
    ? `is ${bytes} bytes, past the ${UNIX_PATH_MAX} a unix socket's path may have on ${process.platform}`
    : undefined;
}
/**
 * How long a worker whose master died has to exit by itself (the IPC disconnect: its `exit`
 * handlers run) before the kernel SIGKILLs it.
 */
const ORPHAN_GRACE_MS = 1_000;

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

/**
 * The backstop for a worker whose master dies: the IPC channel's disconnect makes it exit
 * normally (watchMaster), and on Linux the kernel SIGKILLs it ORPHAN_GRACE_MS after the death
 * if it has not (an event loop that never turns). PR_SET_PDEATHSIG with SIGKILL itself would
 * kill it before it heard the disconnect, and no `exit` handler would run.
 */
function guardOrphan(masterPid: number): void {
  if (process.platform !== 'linux' || !nativeAvailable()) return;
  try {
    native().killOnParentDeath(ORPHAN_GRACE_MS);
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

/**
 * `data` with a copy of `fd` on a worker's channel. The write runs off the event loop, on dups of
 * both fds: neither can be closed, and its number reused, under it. The dups come first, so a
 * master out of fds fails here with nothing written.
 */
async function sendFd(socketFd: number, fd: number, data: Buffer, timeoutMs: number): Promise<void> {
  const n = native();
  const socket = n.dup(socketFd);
  try {
    const passed = n.dup(fd);
    try {
      await n.sendFds(socket, [passed], data, timeoutMs);
    } finally {
      n.close(passed);
    }
  } finally {
    n.close(socket);
  }
}

export const posix: Platform = {
  supported: nativeAvailable,
  openSockets: async (addrs, opts) => (await import('./posix-sockets.js')).openSockets(addrs, opts),
  ownChannel: { sendFd },
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
  ipcPathProblem: (p) => {
    if (!path.isAbsolute(p)) return `must be '' or an absolute path, got '${p}'`;
    const long = unixPathProblem(p);
    return long === undefined ? undefined : `${long}, got '${p}'`;
  },
  shutdownSignals: ['SIGTERM', 'SIGINT', 'SIGHUP'],
  restartSignal: true,
  forwardSignals: true,
  ownProcessGroup: true,
  killProcessGroup,
  // macOS and the BSDs have no procfs: there, only the master's own (proc_pidinfo is not in the addon).
  processUsage: process.platform === 'linux' ? procfsUsage : ownUsage,
  replaceFile: (tempPath, binPath) => fs.renameSync(tempPath, binPath),
  cleanupAfterUpgrade: () => {},
};
