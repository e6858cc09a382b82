// The CPU and memory figures of the status: each process's CPU time and RSS, read from the OS
// (platform.processUsage) when someone asks (a status request, a metrics scrape, `overseer
// top`) and at most once a second per process; nothing runs while no one asks. CPU % is the
// share of one core over the time since the previous reading, or, at the first, since the
// process started.
import type { ProcessUsage } from '../os/process-usage.js';

/** A process's figures in the status; null where the platform cannot tell. */
export interface UsageFigures {
  /** Percent of one core, one decimal. */
  cpuPercent: number | null;
  /** CPU time since it started, user and system. */
  cpuSeconds: number | null;
  rssBytes: number | null;
}

interface Reading extends ProcessUsage {
  at: number;
  cpuPercent: number;
}

const UNKNOWN: UsageFigures = { cpuPercent: null, cpuSeconds: null, rssBytes: null };
/** A process is read again only this long after its last reading. */
export const MIN_SAMPLE_INTERVAL_MS = 1_000;

export class UsageSampler {
  readonly #last = new Map<number, Reading>();

  constructor(
    private readonly read: (pid: number) => ProcessUsage | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The figures of each of `processes` (pid, and when it started, in ms since the epoch). Pids
   * not asked for are forgotten.
   */
  sample(processes: readonly { pid: number | undefined; startedAt: number }[]): UsageFigures[] {
    const now = this.now();
    const asked = new Set<number>();
    const figures = processes.map(({ pid, startedAt }) => {
      if (pid === undefined) return UNKNOWN;
      asked.add(pid);
      let last = this.#last.get(pid);
      if (last === undefined || now - last.at >= MIN_SAMPLE_INTERVAL_MS) {
        const usage = this.read(pid);
        if (usage === undefined) {
          this.#last.delete(pid);
          return UNKNOWN;
        }
        const since = last ?? { at: startedAt, cpuSeconds: 0 };
        const wall = (now - since.at) / 1000;
        const cpu = usage.cpuSeconds - since.cpuSeconds;
        const cpuPercent = wall > 0 ? Math.max(0, Math.round((cpu / wall) * 1000) / 10) : 0;
        last = { ...usage, at: now, cpuPercent };
        this.#last.set(pid, last);
      }
      return { cpuPercent: last.cpuPercent, cpuSeconds: last.cpuSeconds, rssBytes: last.rssBytes };
    });
    for (const pid of this.#last.keys()) if (!asked.has(pid)) this.#last.delete(pid);
    return figures;
  }
}
