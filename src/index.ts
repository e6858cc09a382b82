// overseer's public API. Its names are fixed: users' code and tests outside this repository use them.
// work: the master's and the worker's sides are loaded by run(), the addon on first use.
import { nativeAvailable } from './os/native.js';

export { codes, describeCode, type ErrorCode, type WarningCode, warningCodes } from './codes.js';
export type { Config, RestartMode } from './config.js';
export type { Listener } from './contract/listener.js';
export { sanityCheck } from './contract/sanity-check.js';
export type { Master } from './current-master.js';
export type { FetchedManifest, FetchedVersion, Fetcher, FetchOptions } from './fetcher/fetcher.js';
export type {
  CrashEvent,
  ExitEvent,
  ForkEvent,
  ListeningEvent,
  MasterEvents,
  ReadyEvent,
  ReexecEvent,
  RestartResult,
  RolloutEvent,
  UpdateOutcome,
  UpgradeEvent,
} from './master/events.js';
export type { MasterStatus, ReleaseStatus, UpdaterStatus, WorkerStatus } from './master/status.js';
export { currentMaster, reexec, restart, run, triggerUpdate } from './run.js';
export type { State } from './worker/state.js';

/** True when this platform and build can run the master/worker model (it loads the addon). */
export function isSupported(): boolean {
  return nativeAvailable();
}
