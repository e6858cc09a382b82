// The wait between two network checks. The first check runs at once, and so does an
// immediate one (trigger-update); later ones wait until `interval` ms after the last check
// began, so time the master spent staging counts toward it.
import { sleep } from '../sleep.js';

export class Pacer {
  private lastCheck: number | undefined;

  constructor(private readonly interval: number) {}

  async wait(signal: AbortSignal, immediate: boolean): Promise<void> {
    signal.throwIfAborted();
    if (!immediate && this.lastCheck !== undefined) {
      const due = this.lastCheck + this.interval - Date.now();
      if (due > 0) await sleep(due, signal);
    }
    this.lastCheck = Date.now();
  }
}
