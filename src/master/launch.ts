// How a master starts its workers. run()'s master runs the program's own entry with the
// listeners it made from config.addresses; `overseer run` runs an unmodified app under the
// preload, whose listens are routed to the master (app-workers.ts).
import type { HandedRoute } from './handoff/protocol.js';
import type { LogBuffer } from './log-buffer.js';
import type { WorkerHandle } from './worker-handle.js';

export interface LaunchContext {
  ipcPath: string;
  binHash: string;
  binPath: string;
}

export interface WorkerLaunch {
  spawn(slot: number, id: number, ctx: LaunchContext): WorkerHandle;
  /** What its workers listen on through the master, for status. */
  addresses(): readonly string[];
  /** The workers' output, when the master keeps it (`overseer logs`). */
  readonly logs: LogBuffer | undefined;
  /**
   * Whether the master's shutdown signal goes to ready workers before the shutdown message.
   * An unmodified app hears its signal from the preload, after the drain.
   */
  readonly forwardSignals: boolean;
  /** Its routed sockets, for a master handoff. */
  handoffRoutes(): HandedRoute[];
  /** A new master's: the old one's routed sockets. */
  adoptRoutes(routes: readonly HandedRoute[]): Promise<void>;
  /**
   * Each routed socket this master makes from now on also goes to `store` (systemd's FD store),
   * and each it lets go of (no worker serves it any more) to `unstore`.
   */
  storeRoutes(store: (key: string, fd: number) => void, unstore: (key: string) => void): void;
  /** Whether the routed sockets' files are this master's to remove (not across a handoff). */
  ownFiles(own: boolean): void;
  /** A stop: the master closes its handles of the routed sockets (MasterSockets.shut()). */
  shut(): void;
}
