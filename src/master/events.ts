// The master's events. The master is an EventEmitter; these are its payloads.
import type { RolloutAction, RolloutReason } from '../upgrade/rollout.js';

export interface ForkEvent {
  workerId: number;
  pid: number | undefined;
  slot: number;
}
export interface ReadyEvent extends ForkEvent {
  startupMs: number;
}
export interface ExitEvent extends ForkEvent {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the master asked for it (restart, shutdown). */
  expected: boolean;
}
export interface CrashEvent extends ExitEvent {
  /** How long until the replacement starts, in ms; undefined when none will (noRestart, shutdown). */
  restartInMs: number | undefined;
}
export interface RestartResult {
  ok: boolean;
  reason: string;
  durationMs: number;
  /** How many worker slots now run a new worker (on failure, those before the failing one). */
  replaced: number;
  /** Why it failed; the old workers keep serving. */
  error?: Error;
}
/** What one fetch cycle came to; also the answer of POST /overseer/trigger-update. */
export type UpdateOutcome =
  | { result: 'no-update' }
  | { result: 'upgraded'; oldHash: string; newHash: string; version?: string; restarted: boolean }
  | { result: 'failed'; reason: string; code?: string; newHash?: string; rolledBack: boolean }
  /** A release manifest marked the running version bad, and the master went back to a good one. */
  | {
      result: 'rolled-back';
      oldHash: string;
      newHash: string;
      /** The label of the version rolled back to, when known. */
      version?: string;
      /** The label of the bad version, when known. */
      from?: string;
      restarted: boolean;
    };

export type UpgradeEvent = UpdateOutcome & { durationMs: number };

/**
 * What a master made of a release manifest: emitted when its decision, or what it is decided
 * from (the version, the share, the step, halt, the running version), changes.
 */
export interface RolloutEvent {
  /** This master's stable id in the fleet (config.fleetId, or the machine's id with the app's name). */
  fleetId: string;
  /** The label of the version this master runs, when it knows it. */
  running: string | null;
  /** The manifest's version, its share now (percent) and the step of it (1-based; null: no steps). */
  version: string;
  percent: number;
  step: number | null;
  /** This master's point in [0, 100) for the version: it is in the share when the point is below the percent. */
  point: number;
  inShare: boolean;
  halted: boolean;
  decision: RolloutAction;
  reason: RolloutReason;
}

/** A master handoff (reexec): a new master took over (ok), or failed and this one carries on. */
export interface ReexecEvent {
  ok: boolean;
  pid?: number;
  durationMs: number;
  error?: Error;
}

export interface ListeningEvent {
  addresses: readonly string[];
}

export interface MasterEvents {
  listening: [ListeningEvent];
  fork: [ForkEvent];
  ready: [ReadyEvent];
  restart: [RestartResult];
  exit: [ExitEvent];
  crash: [CrashEvent];
  upgrade: [UpgradeEvent];
  rollout: [RolloutEvent];
  reexec: [ReexecEvent];
  error: [Error];
}

/** The lifecycle events, in the order a worker's life goes through them ('error' aside). */
export const LIFECYCLE_EVENTS = [
  'listening',
  'fork',
  'ready',
  'restart',
  'exit',
  'crash',
  'upgrade',
  'rollout',
  'reexec',
] as const;

// Every event of MasterEvents but 'error' is in the list above, and nothing else is: a new
// event that is not streamed (or a streamed one that does not exist) is a compile error.
type Lifecycle = (typeof LIFECYCLE_EVENTS)[number];
type Missing = Exclude<Exclude<keyof MasterEvents, 'error'>, Lifecycle>;
type Extra = Exclude<Lifecycle, keyof MasterEvents>;
export const everyEventListed: [Missing, Extra] extends [never, never] ? true : never = true;
