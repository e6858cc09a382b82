// overseer's public API. The names are fixed by DESIGN.md.
export type { Config, RestartMode } from './config.js';
export type {
  CrashEvent,
  ExitEvent,
  ForkEvent,
  ListeningEvent,
  MasterEvents,
  ReadyEvent,
  RestartResult,
  UpdateOutcome,
  UpgradeEvent,
} from './events.js';
export type { FetchedVersion, Fetcher, FetchOptions } from './fetcher/fetcher.js';
export type { Master } from './master.js';
export { currentMaster, restart, run, sanityCheck, triggerUpdate } from './run.js';
export type { Listener, State } from './state.js';
export type { MasterStatus, WorkerStatus } from './status.js';
export { isSupported } from './supported.js';
