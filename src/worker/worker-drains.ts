// Every server a worker drains, however it came to listen on an inherited listener:
// state.serve(), or the program's (or its framework's) own server.listen(state.listener):
// `app.listen(state.listener)` (Express), `fastify.listen({ ...state.listener })`, a plain
// `server.listen(state.listener)`. `drained` resolves once all of them have drained, after
// gracefulShutdown.
import net from 'node:net';
import type { Listener } from '../contract/listener.js';
import { type DrainOptions, installDrain } from './server-drain.js';

export class WorkerDrains {
  readonly #servers = new WeakSet<net.Server>();
  readonly #pending: Promise<void>[] = [];
  /** Resolves once gracefulShutdown has aborted and every server drained so far is closed. */
  readonly drained: Promise<void>;

  constructor(private readonly opts: DrainOptions) {
    this.drained = new Promise((resolve) => {
      const after = (): void => {
        void Promise.allSettled(this.#pending).then(() => resolve());
      };
      if (opts.signal.aborted) after();
      else opts.signal.addEventListener('abort', after, { once: true });
    });
  }

  /** WorkerDrains `server` on shutdown; a server is drained once however often it is added. */
  add(server: net.Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.add(server);
    this.#pending.push(installDrain(server, this.opts).catch(() => {}));
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
