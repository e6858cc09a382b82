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
} from './events.js';
export type { Fetcher } from './fetcher/fetcher.js';
export type { Master, MasterStatus, WorkerStatus } from './master.js';
export { currentMaster, restart, run, sanityCheck } from './run.js';
export type { Listener, State } from './state.js';
export { isSupported } from './supported.js';
