// A reload's replacements, as the program's own cluster.fork() meets them. A reload starts a
// new worker in each worker's place before it retires the old one, and the program hears both
// as node:cluster tells them: the new worker's fork, online, listening; the old one's disconnect
// and exit. A program that answers an exit or a disconnect with cluster.fork() (Node's own docs,
// throng) would then add a worker per reload. So a fork() made while the program handles a
// retired worker's disconnect or exit (in the handler, or in what it starts there: a timer, a
// promise) starts nothing and returns the worker the reload put in that place. Loaded only in
// the primary.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The live worker in a retired worker's place, at the time of asking (none: a fork() forks). */
export type InPlace<W> = () => W | undefined;

const nowhere = (): undefined => undefined;

export class Replacements<W> {
  readonly #handling = new AsyncLocalStorage<InPlace<unknown>>();

  /**
   * Runs `emit` (a worker's disconnect or exit, on the worker and on the cluster) so that a
   * fork() in its handlers, or in what they start, gets `inPlace()` when it gives a worker.
   */
  whileGoing(inPlace: InPlace<W> | undefined, emit: () => void): void {
    this.#handling.run(inPlace ?? nowhere, emit);
  }

  /** The worker a fork() made now stands for, because a reload made it already; or none. */
  forFork(): W | undefined {
    return this.#handling.getStore()?.() as W | undefined;
  }

  /** Runs `start` outside any handler's context, so what it starts (a worker) carries none. */
  outside<T>(start: () => T): T {
    return this.#handling.getStore() === undefined ? start() : this.#handling.run(nowhere, start);
  }
}
