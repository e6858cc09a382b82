// An upgrade's health window: after the new version's workers are ready, a crash of any of
// them within the window is the version's failure (the updater rolls it back).
import type { EventEmitter } from 'node:events';
import { codedError } from '../errors.js';
import type { CrashEvent } from './events.js';

export type HealthVerdict = Error | 'passed' | 'stopped';

/**
 * An error when `events` reports a worker crash within `ms`; 'passed' once the window has
 * passed; 'stopped' when `signal` aborts first (the master stops: the version is unproven).
 */
export function crashWithin(events: EventEmitter, ms: number, signal: AbortSignal): Promise<HealthVerdict> {
  if (ms <= 0) return Promise.resolve('passed');
  if (signal.aborted) return Promise.resolve('stopped');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (verdict: HealthVerdict): void => {
      clearTimeout(timer);
      events.off('crash', onCrash);
      signal.removeEventListener('abort', onAbort);
      resolve(verdict);
    };
    const onCrash = (e: CrashEvent): void => {
      const how = e.signal ?? `code ${e.code}`;
      const message = `worker ${e.workerId} died (${how}) ${Math.round(performance.now() - t0)} ms after the new workers were ready`;
      done(codedError(Error, 'ERR_OVERSEER_UPGRADE_UNHEALTHY', message));
    };
    const onAbort = (): void => done('stopped');
    const timer = setTimeout(() => done('passed'), ms);
    events.on('crash', onCrash);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
