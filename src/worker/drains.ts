// Every server a worker drains, however it came to listen on an inherited listener:
// state.serve(), or the program's (or its framework's) own server.listen(state.listener).
// `drained` resolves once all of them have drained, after gracefulShutdown.
import type net from 'node:net';
import { type DrainOptions, installDrain } from './drain.js';

export class Drains {
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

  /** Drains `server` on shutdown; a server is drained once however often it is added. */
  add(server: net.Server): void {
    if (this.#servers.has(server)) return;
    this.#servers.add(server);
    this.#pending.push(installDrain(server, this.opts).catch(() => {}));
  }
}
