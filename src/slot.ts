// A worker slot: the place one worker occupies. During a restart it briefly holds two
// (the current one and the incoming one); after a crash it may hold none, waiting out
// its backoff. At most one worker is ever starting in a slot, so a restart never forks twice.
import { Backoff } from './backoff.js';
import type { WorkerProcess } from './worker-process.js';

export interface Slot {
  readonly index: number;
  /** The ready worker serving this slot. */
  current: WorkerProcess | undefined;
  /** The worker starting in this slot, if any. */
  incoming: WorkerProcess | undefined;
  /** A pending crash replacement. */
  replaceTimer: NodeJS.Timeout | undefined;
  readonly backoff: Backoff;
}

export function createSlot(index: number): Slot {
  return { index, current: undefined, incoming: undefined, replaceTimer: undefined, backoff: new Backoff() };
}
