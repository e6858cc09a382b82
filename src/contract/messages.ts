// The messages between master and worker on the Node IPC channel. Their `cmd` starts with
// NODE_, which Node delivers as 'internalMessage' and never to a 'message' listener (the way
// node:cluster keeps its own traffic apart), so the program's process.send() and ours never
// meet: a program may use its IPC channel as it likes.
import type { EventEmitter } from 'node:events';

export const CMD = 'NODE_OVERSEER';

/** What a worker asks the master to listen on for it (listen routing). */
export interface ListenRequest {
  /** '' for every interface; undefined for a unix path. */
  host?: string;
  port?: number;
  path?: string;
  backlog?: number;
  ipv6Only?: boolean;
  /** A unix socket's mode: readable and/or writable by everyone (net's readableAll, writableAll). */
  readableAll?: boolean;
  writableAll?: boolean;
  /** The how-many-th listen of this worker on this address, so listen(0) twice is two ports. */
  index: number;
}

/**
 * A routed server's address, as node:cluster reports it with 'listening': the address that
 * was asked for (null for every interface; the path of a unix socket), and the port it got.
 */
export interface ListeningInfo {
  addressType: 4 | 6 | -1;
  address: string | null;
  port: number;
  /** The key of the socket in the master (what the worker asked for). */
  key: string;
}

export interface RouteError {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
}

/** Worker to master. */
export type WorkerMessage =
  | { cmd: typeof CMD; act: 'ready' }
  | { cmd: typeof CMD; act: 'failed'; message: string; stack?: string }
  /** Windows: send me the configured listeners. */
  | { cmd: typeof CMD; act: 'listeners' }
  /** The worker side is up (node:cluster's 'online'). */
  | { cmd: typeof CMD; act: 'online' }
  /** Route this server.listen() through the master. */
  | { cmd: typeof CMD; act: 'listen'; seq: number; request: ListenRequest }
  /** A routed server listens: `info.key` must be a key the master routed to this worker. */
  | { cmd: typeof CMD; act: 'listening'; info: ListeningInfo }
  /** A routed server that listened has closed (the key it listened on). */
  | { cmd: typeof CMD; act: 'closed'; key: string }
  /** The worker is leaving on its own (worker.disconnect()/destroy() in the worker). */
  | { cmd: typeof CMD; act: 'leaving'; seq: number };

/** Master to worker. */
export type MasterMessage =
  /** Drain and exit. */
  | { cmd: typeof CMD; act: 'shutdown' }
  /** Windows: one configured listener; its handle comes with the message. */
  | { cmd: typeof CMD; act: 'listener'; index: number; address: string }
  /** The answer to 'listen': the socket's handle comes with it, or an error. */
  | { cmd: typeof CMD; act: 'routed'; seq: number; key: string; error?: RouteError }
  /** Close your servers and disconnect (worker.disconnect() in the primary). */
  | { cmd: typeof CMD; act: 'disconnect' }
  | { cmd: typeof CMD; act: 'ack'; seq: number };

type WithoutCmd<M> = M extends unknown ? Omit<M, 'cmd'> : never;

/** One of our messages: `message<WorkerMessage>({ act: 'ready' })`. */
export function message<M extends WorkerMessage | MasterMessage>(m: WithoutCmd<M>): M {
  return { cmd: CMD, ...m } as M;
}

export function isOurs(m: unknown): m is WorkerMessage | MasterMessage {
  return typeof m === 'object' && m !== null && (m as { cmd?: unknown }).cmd === CMD;
}

/** Calls `fn` for each of our messages `emitter` (a ChildProcess, or process) receives. */
export function onMessages<M extends WorkerMessage | MasterMessage>(
  emitter: EventEmitter,
  fn: (m: M, handle: unknown) => void,
): () => void {
  const listener = (m: unknown, handle: unknown): void => {
    if (isOurs(m)) fn(m as M, handle);
  };
  emitter.on('internalMessage', listener);
  return () => emitter.off('internalMessage', listener);
}
