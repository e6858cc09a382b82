// The Fetcher interface: where new versions of the program come from.
import type { Readable } from 'node:stream';

export interface Fetcher {
  /** Called once in the master before the first fetch. */
  init?(): void | Promise<void>;
  /**
   * Resolves to the new version's bytes, or null for "no update". It may wait (long-poll,
   * file watch) and must give up when `signal` aborts.
   */
  fetch(signal: AbortSignal): Promise<Readable | null>;
}
