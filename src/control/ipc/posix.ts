// The control socket on POSIX: a unix socket, by default `<name>.sock` in this user's
// directory of them (posix-names-dir.ts), mode 0600 from the moment it exists (bound under
// umask 177), whose clients are admitted by their peer uid.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { codedError, errorMessage } from '../../errors.js';
import { debug, warn } from '../../log.js';
import { native } from '../../os/native.js';
import { unixPathProblem } from '../../os/posix.js';
import { probe } from '../../os/posix-stale-socket.js';
import { gateConnections } from '../connection-gate.js';
import { claimSocketPath } from './posix-claim.js';
import { namesDirs, ownNamesDir } from './posix-names-dir.js';
import type { IpcListenOptions, IpcPlatform } from './types.js';

/** Sockets of earlier versions: `overseer-<token>.sock` in os.tmpdir(). */
const PREFIX = 'overseer-';
const SUFFIX = '.sock';

async function listenIPC(socketPath: string, options: IpcListenOptions = {}): Promise<net.Server> {
  const n = native(); // the peer check needs the addon: without it there is no control socket
  let fd = options.fd;
  if (fd === undefined) {
    // The addon binds, not libuv: libuv removes a socket file it bound when its server
    // closes, and after a handoff the file is a new master's. The umask makes it 0600 from
    // the moment it exists.
    fd = await claimSocketPath(socketPath, () => {
      const previous = process.umask(0o177);
      try {
        return n.unixListen(socketPath, 511);
      } finally {
        process.umask(previous);
      }
    });
  }
  const server = options.server ?? net.createServer();
  const extra = options.admit;
  admitOnly(server, (socket) => samePeerUser(socket) && (extra === undefined || extra(socket)));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    if (options.fd === undefined) {
      n.close(fd!);
      fs.rmSync(socketPath, { force: true });
    }
    throw err;
  });
  let spare: number;
  try {
    spare = n.dup(fd!);
  } catch (err) {
    server.close();
    throw err;
  }
  keepAccepting(server, spare, options.onAcceptError);
  return server;
}

/** Each server's spare: a dup of its listening socket, which outlives a pause (serverFd gives it). */
const spares = new WeakMap<net.Server, number>();
const RETRY_MS = { first: 100, max: 5_000 };

/**
 * An accept that fails (out of fds: EMFILE, ENFILE) must not end the master, nor spin it: libuv
 * first accepts and closes what waits with a spare fd of its own, and once that is gone too it
 * calls back with the error again and again in one turn of the loop. So at the first error the
 * server stops listening (closing its handle ends libuv's loop) and says so (`onError`); the
 * socket stays open in `spare`, where connections queue, and the server listens again on a new
 * dup of it once one can be made. A close of the server's own (the master's end, a handoff)
 * ends all of it, the spare too.
 */
function keepAccepting(server: net.Server, spare: number, onError?: (err: Error) => void): void {
  const n = native();
  spares.set(server, spare);
  let stopped = false;
  let paused = false;
  let timer: NodeJS.Timeout | undefined;
  let wait = RETRY_MS.first;
  /** The dup being listened on, until it listens. */
  let pending: number | undefined;
  const later = (): void => {
    paused = true;
    timer = setTimeout(resume, wait).unref();
    wait = Math.min(RETRY_MS.max, wait * 2);
  };
  const resume = (): void => {
    if (stopped) return;
    try {
      pending = n.dup(spare);
    } catch {
      later(); // still no fd
      return;
    }
    server.listen({ fd: pending }, () => {
      pending = undefined;
      paused = false;
      wait = RETRY_MS.first;
      debug('ipc: accepting again');
    });
  };
  server.on('error', (err: Error) => {
    if (stopped) return;
    if (paused) {
      // Listening again failed: its dup is no one's; try later.
      if (pending !== undefined) n.close(pending);
      pending = undefined;
      later();
      return;
    }
    if (!server.listening) return;
    onError?.(err);
    net.Server.prototype.close.call(server);
    later();
  });
  const close = server.close.bind(server);
  server.close = (callback?: (err?: Error) => void) => {
    if (!stopped) {
      stopped = true;
      clearTimeout(timer);
      spares.delete(server);
      n.close(spare);
    }
    return close(callback);
  };
}

/**
 * Refused sockets are destroyed before any listener sees them. The accept and this check
 * happen in the same tick, so not a byte of theirs has been read.
 */
function admitOnly(server: net.Server, admit: (socket: net.Socket) => boolean): void {
  gateConnections(server, (socket) => {
    if (admit(socket)) return true;
    socket.destroy();
    return false;
  });
}

/** Only this master's own uid, and root, may talk to it. Others are logged and refused. */
function samePeerUser(socket: net.Socket): boolean {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  try {
    if (fd === undefined || fd < 0) throw new Error('no fd');
    const peer = native().peerCredentials(fd);
    if (peer.uid === process.getuid?.() || peer.uid === 0) return true;
    warn(
      `control socket: refused a client running as uid ${peer.uid} (pid ${peer.pid})`,
      'OVERSEER_IPC_REFUSED',
    );
  } catch (err) {
    warn(
      `control socket: refused a client whose credentials are unknown (${errorMessage(err)})`,
      'OVERSEER_IPC_REFUSED',
    );
  }
  return false;
}

/**
 * The sockets that masters of earlier versions made at a fresh path in os.tmpdir() each start
 * pile up there when they are killed (SIGKILL, a crash, a power cut): each one that is a socket
 * (never a symlink), owned by us, and refuses connections is removed. Returns what was removed.
 * (A named socket needs no sweep: the next master of its name takes its place.)
 */
async function sweepStaleIPC(): Promise<string[]> {
  const stale = await Promise.all(
    earlierSockets().map(async (p) => ((await probe(p)) === 'stale' ? p : undefined)),
  );
  const removed: string[] = [];
  for (const p of stale) {
    if (p === undefined) continue;
    fs.rmSync(p, { force: true });
    removed.push(p);
  }
  if (removed.length > 0) debug('ipc: removed %d stale control sockets', removed.length);
  return removed;
}

/** This user's named sockets, and those of masters of earlier versions in os.tmpdir(). */
function listIPCPaths(): string[] {
  return [...namesDirs().flatMap((dir) => sockets(dir, () => true)), ...earlierSockets()];
}

function earlierSockets(): string[] {
  return sockets(os.tmpdir(), (n) => n.startsWith(PREFIX));
}

/** The sockets (never symlinks) of this user in `dir` whose file names pass `pick`. */
function sockets(dir: string, pick: (name: string) => boolean): string[] {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(SUFFIX) && pick(n))
    .map((n) => path.join(dir, n))
    .filter((p) => {
      try {
        const st = fs.lstatSync(p);
        return st.isSocket() && (uid === undefined || st.uid === uid);
      } catch {
        return false;
      }
    });
}

/** The master named `name`'s socket; a name that makes it too long to bind is a config mistake. */
function namedPath(name: string): string {
  const socketPath = path.join(ownNamesDir(), `${name}${SUFFIX}`);
  const problem = unixPathProblem(socketPath);
  if (problem === undefined) return socketPath;
  throw codedError(
    TypeError,
    'ERR_OVERSEER_INVALID_CONFIG',
    `overseer: the name '${name}' puts the control socket at ${socketPath}, which ${problem}: give a shorter name, or set ipcPath`,
  );
}

export const posix: IpcPlatform = {
  listenIPC,
  serverFd: (server) => spares.get(server),
  dialIPC: (socketPath) =>
    new Promise((resolve, reject) => {
      const socket = net.connect(socketPath);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    }),
  namedPath,
  namedPaths: (name) => namesDirs().map((dir) => path.join(dir, `${name}${SUFFIX}`)),
  listIPCPaths,
  sweepStaleIPC,
  cleanupIPC: (socketPath) => fs.rmSync(socketPath, { force: true }),
};
