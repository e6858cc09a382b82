// The master handoff's channel on POSIX: a unix stream socket in a private directory (mode
// 0700), to which only the new master's pid is admitted, carrying newline-framed JSON with
// file descriptors (SCM_RIGHTS) through the addon.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codedError, errorCode } from '../errors.js';
import type { HandoffMessage } from '../master/handoff/protocol.js';
import { native } from './native.js';
import { processRuns } from './process-runs.js';
import type { HandoffConnection, HandoffListener, HandoffTransport } from './types.js';

/** The largest message: a few hundred sockets' worth of JSON. */
const MAX_BYTES = 1024 * 1024;
/** SCM_MAX_FD, the kernel's bound on descriptors in one message. */
const MAX_FDS = 253;

function connection(fd: number): HandoffConnection {
  const n = native();
  let buffered = Buffer.alloc(0);
  let pendingFds: number[] = [];
  let closed = false;
  return {
    async send(message: HandoffMessage, fds: number[] = []): Promise<void> {
      if (fds.length > MAX_FDS) {
        throw codedError(
          Error,
          'ERR_OVERSEER_HANDOFF',
          `handoff: ${fds.length} sockets are more than ${MAX_FDS}`,
        );
      }
      await n.sendFds(fd, fds, Buffer.from(`${JSON.stringify(message)}\n`), 10_000);
    },
    async receive(timeoutMs: number): Promise<{ message: HandoffMessage; fds: number[] }> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const nl = buffered.indexOf(10);
        if (nl >= 0) {
          const text = buffered.subarray(0, nl).toString('utf8');
          buffered = buffered.subarray(nl + 1);
          const fds = pendingFds;
          pendingFds = [];
          return { message: JSON.parse(text) as HandoffMessage, fds };
        }
        // The addon takes whole milliseconds.
        const left = Math.ceil(deadline - performance.now());
        if (left <= 0) throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: no answer in time');
        const got = await n.recvFds(fd, MAX_FDS, 64 * 1024, left);
        pendingFds.push(...got.fds);
        if (got.data.length === 0)
          throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: the other master hung up');
        buffered = Buffer.concat([buffered, got.data]);
        if (buffered.length > MAX_BYTES)
          throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: message too large');
      }
    },
    peerPid: () => n.peerCredentials(fd).pid,
    close(): void {
      if (closed) return;
      closed = true;
      for (const f of pendingFds.splice(0)) n.close(f);
      n.close(fd);
    },
  };
}

/** A listener's private directory: `overseer-handoff-<its master's pid>-XXXXXX` in os.tmpdir(). */
const DIR_PREFIX = 'overseer-handoff-';
const DIR_NAME = /^overseer-handoff-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * The longest one accept waits on the threadpool. A close cannot wake a poll(2) in another
 * thread, so a handoff that ended without a connection (its new master exited) would leave
 * the wait, and the master's event loop with it, pending until readyTimeout; and the fd's
 * number, closed under it, could be another socket's by then. So the listener waits in
 * slices and is closed between them.
 */
const ACCEPT_SLICE_MS = 100;

async function listen(): Promise<HandoffListener> {
  const n = native();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`)); // mode 0700
  const socketPath = path.join(dir, 'h.sock');
  const fd = n.unixListen(socketPath, 1);
  let closed = false;
  let accepting = false;
  const closeFd = (): void => {
    if (!accepting) n.close(fd);
  };
  /**
   * One slice's accept: undefined when it timed out and was not the `last` (whose timeout is
   * the caller's, ETIMEDOUT). The fd is closed here if close() came meanwhile.
   */
  const acceptSlice = async (ms: number, last: boolean): Promise<number | undefined> => {
    accepting = true;
    try {
      return await n.accept(fd, ms);
    } catch (err) {
      if (!last && errorCode(err) === 'ETIMEDOUT') return undefined;
      throw err;
    } finally {
      accepting = false;
      if (closed) closeFd();
    }
  };
  return {
    path: socketPath,
    async accept(expectedPid: number, timeoutMs: number): Promise<HandoffConnection> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (closed) throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: the listener was closed');
        const left = Math.max(1, Math.ceil(deadline - performance.now()));
        const c = await acceptSlice(Math.min(left, ACCEPT_SLICE_MS), left <= ACCEPT_SLICE_MS);
        if (c === undefined) continue;
        if (closed) {
          n.close(c);
          continue; // and throw above
        }
        const peer = n.peerCredentials(c);
        if (peer.pid === expectedPid && (peer.uid === process.getuid?.() || peer.uid === 0))
          return connection(c);
        n.close(c); // anyone else: not the master we started
        if (performance.now() >= deadline)
          throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: the new master never connected');
      }
    },
    close(): void {
      if (closed) return;
      closed = true;
      closeFd(); // or, with an accept in flight, when it returns (within ACCEPT_SLICE_MS)
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function connect(socketPath: string, timeoutMs: number): Promise<HandoffConnection> {
  return connection(await native().unixConnect(socketPath, timeoutMs));
}

/** Removes a listener's directory, `dir`, if it is one and this user's. */
function removeDir(dir: string): void {
  try {
    const st = fs.lstatSync(dir);
    if (!st.isDirectory() || !DIR_NAME.test(path.basename(dir)) || st.uid !== process.getuid?.()) return;
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // gone already
  }
}

/**
 * A SIGKILLed master's handoff leaves its directory: each one of this user's whose master
 * is gone is removed.
 */
function sweep(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(DIR_NAME.exec(name)?.[1] ?? Number.NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !processRuns(pid))
      removeDir(path.join(os.tmpdir(), name));
  }
}

export const posixHandoff: HandoffTransport = {
  listen,
  connect,
  forget: (socketPath) => removeDir(path.dirname(socketPath)),
  sweep,
};
