// What the master hands a worker for each address it listens on.
import type net from 'node:net';

/**
 * A listener the master made. It is a `net.ListenOptions` (an inherited `fd` on POSIX, a
 * `handle` on Windows), so `server.listen(listener)` works; `address` is the address it is
 * bound to (with the real port for ':0').
 */
export type Listener = net.ListenOptions & {
  /** POSIX: the inherited listening fd. */
  fd?: number;
  /** Windows: the bound handle received over the IPC channel. */
  handle?: unknown;
  address: string;
};
