// Every server a worker drains, however it came to listen on an inherited listener:
// state.serve(), or the program's (or its framework's) own server.listen(state.listener):
// `app.listen(state.listener)` (Express), `fastify.listen({ ...state.listener })`, a plain
// `server.listen(state.listener)`. When the worker is retired they all begin to drain; once
// they have moved their plain HTTP/1 clients off this worker (or after a bound) the program
// may hear it (`clientsOff`: a State's gracefulShutdown), and `drained` resolves once all of
// them are closed.
import net from 'node:net';
import type { Listener } from '../contract/listener.js';
import { CLIENTS_OFF_BOUND_MS, type Drain, type DrainOptions, installDrain } from './server-drain.js';

export class WorkerDrains {
  readonly #servers = new WeakSet<net.Server>();
  readonly #drains: Drain[] = [];
  /**
   * Resolves once the worker is retired and every server drained so far has no plain HTTP/1
   * client left, or after CLIENTS_OFF_BOUND_MS, and never later than half of upgradeGrace:
   * the program then still has time to close its WebSockets and event streams itself.
   */
  readonly clientsOff: Promise<void>;
  /** Resolves after clientsOff, once every server drained so far is closed. */
  readonly drained: Promise<void>;

  constructor(private readonly opts: DrainOptions) {
    const retired = new Promise<void>((resolve) => {
      if (opts.retire.aborted) resolve();
      else opts.retire.addEventListener('abort', () => resolve(), { once: true });
    });
    // The drains begin on the same abort, before these run.
    this.clientsOff = retired.then(
      () =>
        new Promise<void>((resolve) => {
          const bound = setTimeout(resolve, Math.min(CLIENTS_OFF_BOUND_MS, opts.upgradeGrace / 2));
          void Promise.allSettled(this.#drains.map((d) => d.clientsOff)).then(() => {
            clearTimeout(bound);
            resolve();
          });
        }),
    );
    this.drained = retired
      .then(() => Promise.allSettled([this.clientsOff, ...this.#drains.map((d) => d.closed)]))
      .then(() => {});
  }

  /** Drains `server` when the worker is retired; a server is drained once however often it is added. */
  add(server: net.Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.add(server);
    this.#drains.push(installDrain(server, this.opts));
  }
}

const watched = new Set<{ listeners: readonly Listener[]; drains: WorkerDrains }>();
let wrapped = false;

/**
 * Adds to `drains` every server that listens on one of `listeners`, until `until` aborts (a
 * closed State whose fds' numbers come back for another). net.Server#listen is wrapped once
 * per process; a listen on anything else is left as it is.
 */
export function drainWhatListensOn(
  listeners: readonly Listener[],
  drains: WorkerDrains,
  until?: AbortSignal,
): void {
  if (listeners.length === 0 || until?.aborted) return;
  if (!wrapped) {
    wrapped = true;
    const listen = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
      for (const w of watched) if (w.listeners.some((l) => sameListener(l, args[0]))) w.drains.add(this);
      return (listen as (...a: unknown[]) => net.Server).apply(this, args);
    } as typeof listen;
  }
  const entry = { listeners, drains };
  watched.add(entry);
  until?.addEventListener('abort', () => watched.delete(entry), { once: true });
}

/** Frameworks copy the options they are given, so a listener is known by what it binds. */
export function sameListener(l: Listener, options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const o = options as Listener;
  if (l.fd !== undefined) return o.fd === l.fd;
  if (l.handle !== undefined) return o.handle === l.handle;
  if (l.path !== undefined) return o.path === l.path;
  return o.port === l.port && (o.host ?? '') === (l.host ?? '');
}
