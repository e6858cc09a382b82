// A process's exit status as a shell reports it, for the master's own exit code.
import { constants } from 'node:os';

/** A process's exit status as a shell reports it: the code, or 128+N for death by signal N. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}
