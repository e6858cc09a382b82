// Crash backoff: each crash in a row waits 1.5× longer, up to a cap; a worker that stays
// healthy for resetAfter ms earns a fresh start.
export interface BackoffOptions {
  initial: number;
  factor: number;
  max: number;
  resetAfter: number;
}

export const CRASH_BACKOFF: BackoffOptions = { initial: 500, factor: 1.5, max: 15_000, resetAfter: 30_000 };

export class Backoff {
  private nextDelay: number;
  constructor(private readonly opts: BackoffOptions = CRASH_BACKOFF) {
    this.nextDelay = opts.initial;
  }

  /** The delay before the next restart. `healthyFor` is how long the crashed worker had been ready. */
  next(healthyFor: number): number {
    if (healthyFor >= this.opts.resetAfter) this.nextDelay = this.opts.initial;
    const delay = this.nextDelay;
    this.nextDelay = Math.min(this.opts.max, Math.round(this.nextDelay * this.opts.factor));
    return delay;
  }
}
