// An upgrade's health window: after the new version's workers are ready, a crash of any of
// them within the window is the version's failure (the updater rolls it back).
import type { EventEmitter } from 'node:events';
import { codedError } from '../errors.js';
import type { CrashEvent } from './events.js';

/**
 * Resolves with an error when `events` reports a worker crash within `ms`, or undefined once
 * the window has passed or `signal` aborts.
 */
export function crashWithin(
  events: EventEmitter,
  ms: number,
  signal: AbortSignal,
): Promise<Error | undefined> {
  if (ms <= 0 || signal.aborted) return Promise.resolve(undefined);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      events.off('crash', onCrash);
      signal.removeEventListener('abort', onAbort);
      resolve(err);
    };
    const onCrash = (e: CrashEvent): void => {
      const how = e.signal ?? `code ${e.code}`;
      const message = `worker ${e.workerId} died (${how}) ${Math.round(performance.now() - t0)} ms after the new workers were ready`;
      done(codedError(Error, 'ERR_OVERSEER_UPGRADE_UNHEALTHY', message));
    };
    const onAbort = (): void => done();
    const timer = setTimeout(done, ms);
    events.on('crash', onCrash);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
