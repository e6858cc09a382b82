// Running out of file descriptors (EMFILE: this process's limit, ENFILE: the system's) is the
// master's trouble, never its end. What could not get an fd fails alone, with the error: a
// worker's start (retried with backoff, or the restart fails), a routed listen (the worker's
// listen() gets EMFILE, as Node's own would), a control connection (the control socket stops
// accepting for a moment: control/ipc/posix.ts). The master warns, tells its 'error'
// listeners, carries on, and what failed works again once fds are free.
import { errorCode, errorMessage } from '../errors.js';
import { warn } from '../log.js';

/** The same warning is given once in this many ms for each thing that failed. */
const REPEAT_MS = 10_000;

let reporter: ((err: Error) => void) | undefined;
const warnedAt = new Map<string, number>();

export function isFdExhaustion(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'EMFILE' || code === 'ENFILE';
}

/** Where the master's 'error' listeners hear of it: the master core's reportError, once it exists. */
export function reportFdExhaustionTo(report: (err: Error) => void): void {
  reporter = report;
}

/**
 * When `err` is fd exhaustion: a warning (once in REPEAT_MS for each `failed`, 'a worker could
 * not be started'), and the error to the master's 'error' listeners. Returns whether it was.
 */
export function noteFdExhaustion(err: unknown, failed: string): boolean {
  if (!isFdExhaustion(err)) return false;
  const now = performance.now();
  const last = warnedAt.get(failed);
  if (last === undefined || now - last >= REPEAT_MS) {
    warnedAt.set(failed, now);
    warn(
      `the master is out of file descriptors (${errorMessage(err)}): ${failed}; it carries on, and recovers once fds are free (raise \`ulimit -n\`)`,
      'OVERSEER_FD_EXHAUSTED',
    );
  }
  reporter?.(err instanceof Error ? err : new Error(String(err)));
  return true;
}
