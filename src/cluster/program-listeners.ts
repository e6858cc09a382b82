// Whether the program handles a signal itself, in overseer/cluster's primary: a program that
// listens for a stop signal keeps its own stop, and one that listens for SIGUSR2 its own restart,
// as under node:cluster. Its own listeners are all but overseer's and signal-exit's. signal-exit
// (loaded by write-file-atomic, execa, proper-lockfile, nyc…) listens for the stop signals and
// SIGUSR2 only to run its exit hooks: it re-raises the signal when its listeners are all there
// are, so it must not count as the program's own stop, or neither stops (each waits for the other).
// overseer then stops (or reloads) as for a signal the program does not handle, and signal-exit's
// hooks run when the primary exits. Each loaded copy has one listener on each of those signals,
// and counts itself where every copy of its major version sees it: v4 in a global emitter's
// `count`, v3 in `process.__signal_exit_emitter__.count` (as v4 itself reads them).

const SIGNAL_EXIT_V4 = Symbol.for('signal-exit emitter');

/** The listeners for `signal` that are the program's own; `ours`: overseer's own among them. */
export function programListeners(signal: NodeJS.Signals, ours: number): number {
  const v4 = loadedCopies((globalThis as Record<symbol, unknown>)[SIGNAL_EXIT_V4]);
  const v3 = loadedCopies((process as { __signal_exit_emitter__?: unknown }).__signal_exit_emitter__);
  return Math.max(0, process.listenerCount(signal) - ours - v4 - v3);
}

/** A signal-exit emitter's count of loaded copies: another library's global, read defensively. */
function loadedCopies(emitter: unknown): number {
  if (typeof emitter !== 'object' || emitter === null) return 0;
  const count = (emitter as { count?: unknown }).count;
  return typeof count === 'number' && Number.isSafeInteger(count) && count > 0 ? count : 0;
}
