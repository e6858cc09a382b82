// The master's listening sockets on Windows, where fds cannot be inherited. As node:cluster's
// SharedHandle does, the master only binds a TCP handle and never listens on it, so it never
// accepts; workers get duplicates over the IPC channel and listen on those. All duplicates are
// one socket in the kernel: the master's handle, open for the master's whole life, is what
// keeps its accept queue alive between an old worker closing its copy and a new one listening.

import type { ChildProcess } from 'node:child_process';
import { formatAddress, type ListenAddress } from '../address.js';
import {
  type ListenRequest,
  type MasterMessage,
  message,
  onMessages,
  type WorkerMessage,
} from '../contract/messages.js';
import { codedError } from '../errors.js';
import { ipFamily } from '../ip-family.js';
import { debug } from '../log.js';
import { bindHandle, type ServerHandle, uvError } from './server-handle.js';
import type { ListenerPassing, MasterSockets, RoutedSocket, SocketOptions } from './types.js';

type BoundHandle = ServerHandle & { getsockname(out: { port?: number }): number };

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
  const handles: BoundHandle[] = [];
  const bound: string[] = [];
  const close = (): void => {
    for (const h of handles.splice(0)) h.close();
  };
  try {
    for (const addr of addrs) {
      if (addr.kind === 'systemd') {
        throw codedError(Error, 'ENOTSUP', `overseer: ${addr.text}: there is no systemd on Windows`);
      }
      if (addr.kind === 'unix') {
        throw codedError(
          Error,
          'ENOTSUP',
          `overseer: ${addr.text}: unix socket addresses are not supported on Windows`,
        );
      }
      const { handle, port } = bindTcp(addr.host, addr.port, addr.text);
      handles.push(handle);
      bound.push(formatAddress(addr, port));
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
    shut: close, // no files to keep
    close,
  };
}

/** A bound TCP handle and its port. */
function bindTcp(
  host: string,
  port: number,
  text: string,
): { handle: BoundHandle; port: number | undefined } {
  const address = host === '' ? null : host;
  const family = address === null ? 6 : ipFamily(address);
  const h = bindHandle(address, port, family) as BoundHandle | number;
  if (typeof h === 'number') throw uvError(h, 'bind', text);
  // libuv defers a failed bind (EADDRINUSE) to listen, which the master never calls;
  // getsockname reports it now, so a port in use stays the master's error.
  const out: { port?: number } = {};
  const err = h.getsockname(out);
  if (err !== 0) {
    h.close();
    throw uvError(err, 'bind', text);
  }
  return { handle: h, port: out.port };
}

/** A socket for a worker's own server.listen() (listen routing): a bound handle sent over IPC. */
export async function openRoutedSocket(request: ListenRequest, reusePort: boolean): Promise<RoutedSocket> {
  if (reusePort) {
    throw codedError(
      Error,
      'ENOTSUP',
      'overseer: reusePort is not supported on Windows (use one shared socket)',
    );
  }
  if (request.path !== undefined) {
    throw codedError(
      Error,
      'ENOTSUP',
      `overseer: ${request.path}: routed pipe listens are not supported on Windows`,
    );
  }
  const { handle } = bindTcp(
    request.host ?? '',
    request.port ?? 0,
    `${request.host ?? ''}:${request.port ?? 0}`,
  );
  handle.unref();
  return { handle, close: () => handle.close() };
}

/** A worker asks for its listeners once it listens for them; each goes as a message with the handle. */
function sendOnRequest(handles: readonly BoundHandle[], addresses: readonly string[]): ListenerPassing {
  return {
    stdio: [],
    attach: (child: ChildProcess) => {
      onMessages<WorkerMessage>(child, (m) => {
        if (m.act !== 'listeners' || !child.connected) return;
        for (const [index, handle] of handles.entries()) {
          const address = addresses[index] ?? '';
          child.send(message<MasterMessage>({ act: 'listener', index, address }), handle as never, (err) => {
            if (err) debug('worker %d: sending listener %d: %s', child.pid, index, err.message);
          });
        }
      });
    },
  };
}
