// What a master handoff needs of the master whose sockets it moves. master-process.ts fills it in;
// both sides (old-master.ts, new-master.ts) work only through it, so a test can give them
// fakes, as tableflip's upgrader is tested with fake processes.
import type { MasterSockets } from '../../os/types.js';
import type { MasterCore } from '../core.js';
import type { WorkerLaunch } from '../launch.js';

export interface HandoffHost {
  /** The OS seam, the supervisor (its counters go along), the events ('reexec') and the control socket. */
  readonly core: Pick<MasterCore, 'platform' | 'supervisor' | 'events' | 'control'>;
  /** The master's configured sockets, once they are open. */
  sockets(): MasterSockets | undefined;
  /** How workers start when the master routes their listens (`overseer run`): its routed sockets go too. */
  readonly launch: WorkerLaunch | undefined;
  /** How long the new master has to become ready. */
  readonly readyTimeout: number;
  /** The versions the updater knows to be bad, for the new master's updater. */
  badHashes(): string[];
  /** What the new master's environment gets beyond this one's (systemd's NOTIFY_SOCKET). */
  env(): Record<string, string>;
  /** The health port, which goes from the old master to the new one with the commit. */
  readonly health: { serve(): Promise<void>; close(): void };
  /** Serves the control socket a new master inherited (bound at `path`), once the handoff is its own. */
  serveControl(control: { path: string; fd: number }): Promise<void>;
  /** A new master serves now: this one drains its workers (and exits with 0). */
  drain(): void;
}
