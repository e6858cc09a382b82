// Taking a control socket's path on POSIX. A socket file that nothing listens on any more (a
// SIGKILLed master's) is ours to replace, once we know it is ours; a live one is another
// master's (EADDRINUSE). The look and the replacement happen under a lock file beside the
// socket, so that two masters starting at once under one name cannot both see the old socket
// as stale, and the second remove the first one's new socket.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { codedError, errorCode } from '../../errors.js';
import { debug } from '../../log.js';
import { socketFileState } from '../../os/posix-stale-socket.js';
import { processRuns } from '../../os/process-runs.js';

/** How long a start waits for another one's lock (held for a look and a bind: milliseconds). */
const LOCK_WAIT_MS = 3_000;
/** A lock older than this was left by a process that died holding it. */
const LOCK_STALE_MS = 10_000;

/** Binds `socketPath` with `bind` once nothing live is there; returns what `bind` returns. */
export async function claimSocketPath<T>(socketPath: string, bind: () => T): Promise<T> {
  const lock = `${socketPath}.lock`;
  await takeLock(lock);
  try {
    await clearStale(socketPath);
    return bind();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

async function takeLock(lock: string): Promise<void> {
  const deadline = performance.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      return;
    } catch (err) {
      if (errorCode(err) !== 'EEXIST') throw err;
    }
    if (lockIsStale(lock)) {
      debug('ipc: removing the stale lock %s', lock);
      fs.rmSync(lock, { force: true });
    } else if (performance.now() > deadline) {
      throw codedError(Error, 'EEXIST', `ipc: ${lock} is held by another starting master`);
    } else await sleep(20);
  }
}

/** Its process is gone, or it is too old to be anyone's look-and-bind. */
function lockIsStale(lock: string): boolean {
  try {
    if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number(fs.readFileSync(lock, 'utf8'));
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written
    return !processRuns(pid);
  } catch {
    return false; // a lock that cannot be read is not judged stale
  }
}

/** A stale socket of this user's is removed; a live one is EADDRINUSE; another user's is EEXIST. */
async function clearStale(socketPath: string): Promise<void> {
  const state = await socketFileState(socketPath).catch((err: Error) => {
    throw codedError(Error, 'EEXIST', `ipc: ${err.message}`);
  });
  if (state === 'live')
    throw codedError(Error, 'EADDRINUSE', `ipc: another master is listening on ${socketPath}`);
  if (state === 'stale') {
    const uid = process.getuid?.();
    const owner = fs.lstatSync(socketPath).uid;
    if (uid !== undefined && uid !== 0 && owner !== uid) {
      throw codedError(Error, 'EEXIST', `ipc: ${socketPath} is a socket of uid ${owner}, not ours`);
    }
    debug('ipc: removing stale %s', socketPath);
    fs.rmSync(socketPath, { force: true });
  }
}
