// What /overseer/status answers, and what the metrics are made from: plain data types.
import type { RolloutEvent, UpdateOutcome } from './events.js';
import type { UsageFigures } from './usage-sampler.js';

/** What the master made of the release manifest at its last read, and when that was. */
export interface ReleaseStatus extends RolloutEvent {
  manifestAt: string;
}

/** The fetch loop's part of the status. */
export interface UpdaterStatus {
  checking: boolean;
  lastCheck: string | null;
  lastResult: UpdateOutcome | null;
  badHashes: string[];
  fetches: number;
  fetchErrors: number;
  upgrades: number;
  upgradeFailures: number;
  /** Rollbacks from a version a release manifest marked bad. */
  rollbacks: number;
  /** With a fetcher in manifest mode, once it has read a manifest; else null. */
  release: ReleaseStatus | null;
}

/** A worker, with its CPU and memory (usage-sampler.ts). */
export interface WorkerStatus extends UsageFigures {
  id: number;
  pid: number | undefined;
  slot: number;
  state: 'starting' | 'ready' | 'draining';
  startedAt: string;
  readyAt: string | null;
  /** Workers started in its slot before it (restarts, and replacements of crashed ones). */
  slotRestarts: number;
}

/** The cpuPercent, cpuSeconds and rssBytes at the top level are the master's own. */
export interface MasterStatus extends UsageFigures {
  pid: number;
  binHash: string;
  binPath: string;
  /** The newest ready worker's id (0 before the first is ready). */
  workerId: number;
  /** The same, under the name the Go plan uses. */
  slaveID: number;
  restarting: boolean;
  restartedAt: string | null;
  restarts: number;
  restartFailures: number;
  crashes: number;
  /** Events that control-socket readers lost because they did not keep up. */
  eventsDropped: number;
  startedAt: string;
  addresses: readonly string[];
  workers: WorkerStatus[];
  /** The control socket's path ('' when there is none). */
  ipcPath: string;
  /** Where the health endpoint listens (config.healthAddress), when it does. */
  health?: string;
  /** The fetcher's last check and result; null without a fetcher. */
  fetcher: UpdaterStatus | null;
  /** overseer's version. */
  version: string;
  /** The master's name (`overseer status NAME`). */
  name: string;
  /** Where its app lives (app-identity.ts): the CLI acts on the master whose appDir holds its cwd. */
  appDir: string;
}
