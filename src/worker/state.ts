// State: what a program is given in each worker (the Go State, plus serve()), and the one way
// it is built (a run() worker, the in-process fallback, overseer/testing).
import type { Listener } from '../contract/listener.js';
import { makeServe, type Serve } from './serve.js';
import { drainWhatListensOn, WorkerDrains } from './worker-drains.js';

export interface State {
  /** False when overseer fell back to running the program in-process. */
  readonly enabled: boolean;
  /** The sha256 of the program's entry file (binPath). */
  readonly id: string;
  /** This worker's number; 0 in a disabled State. */
  readonly workerId: number;
  readonly startedAt: Date;
  /**
   * The first listener, or undefined when no address was configured. Each read is a fresh,
   * writable object, since frameworks write to the listen options they are given.
   */
  readonly listener: Listener | undefined;
  /** Every listener, in address order; fresh objects on each read, as `listener`. */
  readonly listeners: Listener[];
  /** The first address ('' when none), with the real port for ':0'. */
  readonly address: string;
  readonly addresses: readonly string[];
  /**
   * Aborts when this worker must stop (a restart, an upgrade or the master's shutdown), once
   * the drain has moved every plain HTTP/1 client off this worker (at most about 2 s after it
   * began, and never after half of upgradeGrace): a framework's own close then sees no request
   * arrive after it began, and what is left (WebSockets, event streams, HTTP/2 sessions) is
   * the program's to close.
   */
  readonly gracefulShutdown: AbortSignal;
  /** The program's entry file, absolute and not resolved through symlinks. */
  readonly binPath: string;
  /** The control socket's path; '' when there is none. */
  readonly ipcPath: string;
  /**
   * Resolves after gracefulShutdown has aborted, once every server that listens on this
   * worker's listeners has drained: the place for cleanup that must wait for the requests.
   */
  readonly drained: Promise<void>;
  /**
   * Listens on `listener` (default: the first one) and resolves with the server once it
   * listens, in its own type (an http2.Http2SecureServer for one). `target` is a server, a
   * request handler (an Express app) or an app with callback() (Koa), whose server is an
   * http.Server. On graceful shutdown it drains without losing a request; so does any server
   * that listens on a listener itself.
   */
  readonly serve: Serve;
}

export interface StateParts {
  enabled: boolean;
  id: string;
  workerId: number;
  listeners: Listener[];
  gracefulShutdown: AbortSignal;
  binPath: string;
  ipcPath: string;
  /** The drains of this worker's servers (they share the retire signal and the bounds). */
  drains: WorkerDrains;
}

/** What a worker's State is built from: its parts, and the bounds of its servers' drain (ms). */
export interface WorkerStateParts extends Omit<StateParts, 'drains' | 'gracefulShutdown'> {
  /** Aborts when the worker is retired: its drain begins, and gracefulShutdown follows. */
  retire: AbortSignal;
  terminateTimeout: number;
  upgradeGrace: number;
  /** When the State is done with (overseer/testing's close()); a worker's lasts as long as it does. */
  closed?: AbortSignal;
}

/**
 * A worker's State: its servers drain when it is retired, those it serves and those the
 * program listens with on its listeners itself; gracefulShutdown aborts once they have no
 * plain HTTP/1 client left (two moments: a framework's close must not meet a request).
 */
export function buildState(p: WorkerStateParts): State {
  const { terminateTimeout, upgradeGrace, closed, retire, ...parts } = p;
  const drains = new WorkerDrains({ retire, terminateTimeout, upgradeGrace });
  drainWhatListensOn(p.listeners, drains, closed);
  const gracefulShutdown = new AbortController();
  void drains.clientsOff.then(() => gracefulShutdown.abort(retire.reason));
  return makeState({ ...parts, gracefulShutdown: gracefulShutdown.signal, drains });
}

/** A frozen State; what it hands out (the listeners) is fresh on every read. */
export function makeState(p: StateParts): State {
  const listeners = p.listeners.map((l) => Object.freeze({ ...l }));
  return Object.freeze({
    enabled: p.enabled,
    id: p.id,
    workerId: p.workerId,
    startedAt: new Date(),
    get listener(): Listener | undefined {
      const first = listeners[0];
      return first === undefined ? undefined : { ...first };
    },
    get listeners(): Listener[] {
      return listeners.map((l) => ({ ...l }));
    },
    address: listeners[0]?.address ?? '',
    addresses: listeners.map((l) => l.address),
    gracefulShutdown: p.gracefulShutdown,
    binPath: p.binPath,
    ipcPath: p.ipcPath,
    drained: aborted(p.gracefulShutdown).then(() => p.drains.drained),
    serve: makeServe(listeners, p.drains),
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
