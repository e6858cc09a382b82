// The master's events. The master is an EventEmitter; these are its payloads.

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
  | { result: 'failed'; reason: string; code?: string; newHash?: string; rolledBack: boolean };

export type UpgradeEvent = UpdateOutcome & { durationMs: number };

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
  'reexec',
] as const;

// Every event of MasterEvents but 'error' is in the list above, and nothing else is: a new
// event that is not streamed (or a streamed one that does not exist) is a compile error.
type Lifecycle = (typeof LIFECYCLE_EVENTS)[number];
type Missing = Exclude<Exclude<keyof MasterEvents, 'error'>, Lifecycle>;
type Extra = Exclude<Lifecycle, keyof MasterEvents>;
export const everyEventListed: [Missing, Extra] extends [never, never] ? true : never = true;
