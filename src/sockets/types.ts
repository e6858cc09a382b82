// The master's listening sockets, as each platform keeps them.

export interface SocketOptions {
  /** How many sets of sockets: one per worker slot with reusePort, otherwise one. */
  sets: number;
  reusePort: boolean;
  backlog: number;
}

export interface MasterSockets {
  /** The bound addresses in config order, with real ports for ':0'. */
  readonly addresses: readonly string[];
  /** POSIX: the fds that worker slot `slot` inherits (as 3, 4, …), in address order. */
  fdsFor(slot: number): number[];
  /** Windows: the bound handles sent to worker slot `slot` over the IPC channel, in address order. */
  handlesFor(slot: number): object[];
  /** Closes every socket and removes the unix socket files this master created. */
  close(): void;
}
