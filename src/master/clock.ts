// Time, as the master reads it: injected, so the supervisor's tests run on a fake clock. `now()`
// is monotonic (performance.now()): deadlines, backoff and durations never move when the wall
// clock is stepped (NTP, a VM resumed, an admin's `date -s`). Calendar facts (`restartedAt`,
// a worker's `startedAt`) are Dates, read from the wall clock where they are made.

/** An opaque handle of a pending timer. */
export type Timer = unknown;

export interface Clock {
  /** Milliseconds on a monotonic clock (its origin means nothing). */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};
