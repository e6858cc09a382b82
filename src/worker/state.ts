// State: what a program is given in each worker (the Go State, plus serve()).
import type net from 'node:net';
import type { Listener } from '../contract/listener.js';
import { makeServe } from './serve.js';

export interface State {
  /** False when overseer fell back to running the program in-process. */
  readonly enabled: boolean;
  /** The sha256 of the program's entry file (binPath). */
  readonly id: string;
  /** This worker's number; 0 in a disabled State. */
  readonly workerId: number;
  readonly startedAt: Date;
  /** The first listener, or undefined when no address was configured. */
  readonly listener: Listener | undefined;
  readonly listeners: readonly Listener[];
  /** The first address ('' when none), with the real port for ':0'. */
  readonly address: string;
  readonly addresses: readonly string[];
  /** Aborts when this worker must stop: a restart, an upgrade or the master's shutdown. */
  readonly gracefulShutdown: AbortSignal;
  /** The program's entry file, absolute and not resolved through symlinks. */
  readonly binPath: string;
  /** The control socket's path; '' when there is none. */
  readonly ipcPath: string;
  /**
   * Listens `server` on `listener` (default: the first one) and resolves once it listens.
   * On graceful shutdown it drains the server without losing a request.
   */
  serve(server: net.Server, listener?: Listener): Promise<void>;
}

export interface StateParts {
  enabled: boolean;
  id: string;
  workerId: number;
  listeners: Listener[];
  gracefulShutdown: AbortSignal;
  binPath: string;
  ipcPath: string;
  terminateTimeout: number;
}

/** A frozen State; its serve() drains within terminateTimeout. */
export function makeState(p: StateParts): State {
  return Object.freeze({
    enabled: p.enabled,
    id: p.id,
    workerId: p.workerId,
    startedAt: new Date(),
    listener: p.listeners[0],
    listeners: p.listeners,
    address: p.listeners[0]?.address ?? '',
    addresses: p.listeners.map((l) => l.address),
    gracefulShutdown: p.gracefulShutdown,
    binPath: p.binPath,
    ipcPath: p.ipcPath,
    serve: makeServe(p.listeners, p.gracefulShutdown, p.terminateTimeout),
  });
}
