// The master's listening sockets on Windows, where fds cannot be inherited. As node:cluster's
// SharedHandle does, the master only binds a TCP handle and never listens on it, so it never
// accepts; workers get duplicates over the IPC channel and listen on those. All duplicates are
// one socket in the kernel: the master's handle, open for the master's whole life, is what
// keeps its accept queue alive between an old worker closing its copy and a new one listening.

import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { formatAddress, type ListenAddress } from '../address.js';
import { isWorkerMessage, TAG } from '../contract/messages.js';
import { codedError } from '../errors.js';
import { debug } from '../log.js';
import type { ListenerPassing, MasterSockets, SocketOptions } from './types.js';

interface BoundHandle {
  close(): void;
  getsockname(out: { port?: number }): number;
}

/** net's own bind-without-listen, the one node:cluster uses; a number is a libuv error. */
type CreateServerHandle = (address: string | null, port: number, addressType: number) => BoundHandle | number;

export async function openSockets(
  addrs: readonly ListenAddress[],
  opts: SocketOptions,
): Promise<MasterSockets> {
  if (opts.reusePort) {
    throw codedError(
      Error,
      'ENOTSUP',
      'overseer: reusePort is not supported on Windows (use one shared socket)',
    );
  }
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle;
  if (typeof create !== 'function') {
    throw codedError(Error, 'ERR_OVERSEER_UNSUPPORTED', 'overseer: this Node has no net._createServerHandle');
  }
  const handles: BoundHandle[] = [];
  const bound: string[] = [];
  const close = (): void => {
    for (const h of handles.splice(0)) h.close();
  };
  try {
    for (const addr of addrs) {
      if (addr.kind === 'unix') {
        throw codedError(
          Error,
          'ENOTSUP',
          `overseer: ${addr.text}: unix socket addresses are not supported on Windows`,
        );
      }
      const host = addr.host === '' ? null : addr.host;
      const family = host === null ? 6 : net.isIPv6(host) ? 6 : 4;
      const h = create(host, addr.port, family);
      if (typeof h === 'number') {
        throw uvError(h, 'bind', addr.text);
      }
      handles.push(h);
      // libuv defers a failed bind (EADDRINUSE) to listen, which the master never calls;
      // getsockname reports it now, so a port in use stays the master's error.
      const out: { port?: number } = {};
      const err = h.getsockname(out);
      if (err !== 0) throw uvError(err, 'bind', addr.text);
      bound.push(formatAddress(addr, out.port));
    }
  } catch (err) {
    close();
    throw err;
  }
  debug('bound %s (handles shared with workers over IPC)', bound.join(', '));
  return {
    addresses: bound,
    passTo: () => sendOnRequest(handles, bound),
    inProcess: () => handles.map((handle, i) => ({ handle, address: bound[i] ?? '' })),
    close,
  };
}

/** A worker asks for its listeners once it listens for them; each goes as a message with the handle. */
function sendOnRequest(handles: readonly BoundHandle[], addresses: readonly string[]): ListenerPassing {
  return {
    stdio: [],
    attach: (child: ChildProcess) => {
      child.on('message', (m: unknown) => {
        if (!isWorkerMessage(m) || m[TAG] !== 'listeners' || !child.connected) return;
        for (const [index, handle] of handles.entries()) {
          const address = addresses[index] ?? '';
          child.send({ [TAG]: 'listener', index, address }, handle as never, (err) => {
            if (err) debug('worker %d: sending listener %d: %s', child.pid, index, err.message);
          });
        }
      });
    },
  };
}

/** libuv's error as Node shapes its own: code, errno, syscall, address. */
function uvError(errno: number, syscall: string, address: string): Error {
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`${syscall} ${code}: ${address}`), { code, errno, syscall, address });
}
