// What differs between POSIX and Windows, behind one shape. Everything outside src/platform,
// src/sockets and src/ipc is platform-agnostic.
import type { ChildProcess } from 'node:child_process';
import type { ListenAddress } from '../address.js';
import type { WorkerEnv } from '../env.js';
import type { MasterSockets, SocketOptions } from '../sockets/types.js';
import type { Listener } from '../state.js';

export interface Platform {
  /** Whether the master/worker model can run here (the addon and what it needs). */
  supported(): boolean;
  /** Master: makes the listening sockets, never accepting on them. */
  openSockets(addrs: readonly ListenAddress[], opts: SocketOptions): Promise<MasterSockets>;
  /** Worker: the listeners the master passed, in address order. */
  receiveListeners(env: WorkerEnv): Promise<Listener[]>;
  /** Worker: die with the master where the kernel can arrange it (PDEATHSIG). */
  guardOrphan(env: WorkerEnv): void;
  /** Signals that shut a master (and a worker) down gracefully. */
  readonly shutdownSignals: readonly NodeJS.Signals[];
  /** Whether the restart signal can be delivered at all; without it restarts use the control socket. */
  readonly restartSignal: boolean;
  /** Whether the master forwards its shutdown signal to workers (else only the shutdown message). */
  readonly forwardSignals: boolean;
  /** Whether a helper process (the sanity check) can be started as a process group of its own. */
  readonly ownProcessGroup: boolean;
  /** Kills a helper started with `detached: ownProcessGroup`, and on POSIX its whole group. */
  killProcessGroup(child: ChildProcess): void;
  /** Puts a staged file in binPath's place; `sea`: binPath is the running executable. */
  replaceFile(tempPath: string, binPath: string, sea: boolean): void;
  /** Master start: removes what an earlier upgrade could not (a renamed-aside .exe). */
  cleanupAfterUpgrade(binPath: string): void;
}
