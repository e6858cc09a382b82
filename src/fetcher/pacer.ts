// The wait between two network checks. The first check runs at once, and so does an
// immediate one (trigger-update); later ones wait until about `interval` ms after the last
// check began, so time the master spent staging counts toward it. "About": each wait is
// jittered by ±10 %, so a fleet of hosts started together does not poll in lockstep.
import { sleep } from '../sleep.js';

export const JITTER = 0.1;

export class Pacer {
  private lastCheck: number | undefined;

  constructor(
    private readonly interval: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The next wait's length: `interval` ± 10 %. */
  nextInterval(): number {
    return Math.round(this.interval * (1 - JITTER + 2 * JITTER * this.random()));
  }

  async wait(signal: AbortSignal, immediate: boolean): Promise<void> {
    signal.throwIfAborted();
    if (!immediate && this.lastCheck !== undefined) {
      const due = this.lastCheck + this.nextInterval() - Date.now();
      if (due > 0) await sleep(due, signal);
    }
    this.lastCheck = Date.now();
  }
}
