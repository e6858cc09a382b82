// net._createServerHandle, the one node:cluster uses: a libuv TCP (or pipe) handle that is
// bound, or that wraps an fd, and is never listened on here. Such a handle can be sent to a
// worker over the IPC channel (it goes as an fd), where the worker listens on it. The
// master's event loop never watches it, so the master never accepts a connection.
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { codedError } from '../errors.js';

export interface ServerHandle {
  close(): void;
  /** The handle no longer keeps the event loop alive. */
  unref(): void;
  getsockname?(out: { address?: string; port?: number; family?: string }): number;
  /** listen(2), and libuv watches it for connections from then on: 0, or a libuv error. */
  listen(backlog: number): number;
  /** Its file descriptor (POSIX). */
  readonly fd: number;
}

type Create = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
) => ServerHandle | number;

function create(): Create {
  const fn = (net as unknown as { _createServerHandle?: Create })._createServerHandle;
  if (typeof fn !== 'function') {
    throw codedError(Error, 'ERR_OVERSEER_UNSUPPORTED', 'overseer: this Node has no net._createServerHandle');
  }
  return fn;
}

/** A handle bound to host:port (not listening); a number is a libuv error. */
export function bindHandle(host: string | null, port: number, family: 4 | 6): ServerHandle | number {
  return create()(host, port, family);
}

/** A pipe handle bound to `path` by Node's own libuv (not listening); a number is a libuv error. */
export function bindPipe(path: string): ServerHandle | number {
  return create()(path, -1, -1);
}

/** A handle that owns `fd` (a listening socket made elsewhere); a number is a libuv error. */
export function wrapFd(fd: number): ServerHandle | number {
  return create()(null, 0, -1, fd);
}

/** libuv's error as Node shapes its own: code, errno, syscall, address. */
export function uvError(errno: number, syscall: string, address: string): Error {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`${syscall} ${code}: ${address}`), { code, errno, syscall, address });
}
