// Windows: listeners are bound handles sent over the IPC channel, shutdown is a message
// (signals cannot be delivered to children), restarts come through the control socket, and
// a running .exe is renamed aside before its replacement moves in. What only the master
// needs is imported when it is first used.
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerEnv } from '../contract/env.js';
import type { Listener } from '../contract/listener.js';
import { type MasterMessage, message, onMessages, type WorkerMessage } from '../contract/messages.js';
import { codedError, errorCode } from '../errors.js';
import { nativeAvailable } from './native.js';
import { ownUsage } from './process-usage.js';
import type { Platform } from './types.js';

const LISTENERS_TIMEOUT_MS = 30_000;
const RETRIES = 20;

/** Asks the master for its handles (asking, so none arrives before we listen for it). */
function receiveListeners(env: Pick<WorkerEnv, 'numFds'>): Promise<Listener[]> {
  if (env.numFds === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const got: Listener[] = [];
    let count = 0;
    const timer = setTimeout(() => {
      stop();
      reject(
        codedError(
          Error,
          'ERR_OVERSEER_NO_LISTENER',
          `overseer: got ${count} of ${env.numFds} listeners from the master`,
        ),
      );
    }, LISTENERS_TIMEOUT_MS);
    const stop = onMessages<MasterMessage>(process, (m, handle) => {
      if (m.act !== 'listener' || handle === undefined) return;
      got[m.index] = Object.freeze({ handle, address: m.address }) as Listener;
      if (++count === env.numFds) {
        clearTimeout(timer);
        stop();
        resolve(got);
      }
    });
    process.send?.(message<WorkerMessage>({ act: 'listeners' }));
  });
}

/** EBUSY/EPERM come and go on Windows while a scanner or indexer holds the file. */
function retrying(op: () => void): void {
  for (let i = 0; ; i++) {
    try {
      op();
      return;
    } catch (err) {
      const code = errorCode(err);
      if (i >= RETRIES || (code !== 'EBUSY' && code !== 'EPERM' && code !== 'EACCES')) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

function replaceFile(tempPath: string, binPath: string, sea: boolean): void {
  if (sea) {
    // A running .exe cannot be replaced, but it can be renamed: move it aside first. The
    // leftover is removed on the next start (cleanupOldExe).
    const old = `${binPath}.old`;
    retrying(() => fs.rmSync(old, { force: true }));
    retrying(() => fs.renameSync(binPath, old));
  }
  retrying(() => fs.renameSync(tempPath, binPath));
}

/** Removes the .old executable a previous upgrade left behind (it is no longer running). */
function cleanupAfterUpgrade(binPath: string): void {
  if (path.extname(binPath).toLowerCase() !== '.exe') return;
  try {
    fs.rmSync(`${binPath}.old`, { force: true });
  } catch {}
}

const PIPE_DIR = '\\\\.\\pipe\\';

export const windows: Platform = {
  supported: nativeAvailable, // a Windows build of the addon always has its named pipes
  openSockets: async (addrs, opts) => (await import('./windows-sockets.js')).openSockets(addrs, opts),
  // Node's own IPC channel to each worker: only it can carry a socket to another process here.
  ownChannel: undefined,
  routedSocket: async (request, opts) =>
    (await import('./windows-sockets.js')).openRoutedSocket(request, opts?.reusePort ?? false),
  closeFd: () => {}, // no raw fds here: handles are Node's
  reapOrphans: async () => {}, // no zombies: a Windows process needs no reaping
  routedFromFd: () =>
    Promise.reject(codedError(Error, 'ERR_OVERSEER_UNSUPPORTED', 'overseer: no handoff on Windows')),
  receiveListeners,
  guardOrphan: () => {}, // no PDEATHSIG: the IPC channel's disconnect is the guard
  // No signals between processes: a "signal" to itself would be TerminateProcess. The
  // program's handlers are called instead; without any, it has drained and exits cleanly.
  signalSelf: (signal) => {
    if (process.listenerCount(signal) > 0) process.emit(signal, signal);
    else process.exit(0);
  },
  controlSocket: async () => (await import('../control/ipc/windows.js')).windows,
  // A handle belongs to its process; passing listeners to an unrelated new master would need
  // WSADuplicateSocket with that master's pid, which no part of this build does yet.
  handoff: () =>
    Promise.reject(
      codedError(
        Error,
        'ERR_OVERSEER_UNSUPPORTED',
        'overseer: a master handoff (reexec) is not supported on Windows; restart the service instead',
      ),
    ),
  // No owners and modes to judge: a file's ACL decides who may write it (README, "Config files").
  untrustedFile: () => undefined,
  ipcPathProblem: (p) =>
    p.toLowerCase().startsWith(PIPE_DIR) && p.length > PIPE_DIR.length
      ? undefined
      : `must be '' or a pipe name like ${PIPE_DIR}app, got '${p}'`,
  shutdownSignals: ['SIGINT', 'SIGBREAK', 'SIGHUP'],
  restartSignal: false,
  forwardSignals: false,
  // A detached child gets a console of its own here; TerminateProcess reaches only the child.
  ownProcessGroup: false,
  killProcessGroup: (child) => {
    child.kill('SIGKILL');
  },
  // Another process's times need GetProcessTimes on a handle, which is not in the addon.
  processUsage: ownUsage,
  replaceFile,
  cleanupAfterUpgrade,
};
