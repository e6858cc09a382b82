// What differs between POSIX and Windows, behind one shape, the way node's handle classes
// hide theirs: everything outside src/os (and the control socket's listener files under
// src/control/ipc, which src/os picks) is platform-agnostic.
import type { ChildProcess } from 'node:child_process';
import type { ListenAddress } from '../address.js';
import type { WorkerEnv } from '../contract/env.js';
import type { Listener } from '../contract/listener.js';
import type { ListenRequest } from '../contract/messages.js';
import type { IpcPlatform } from '../control/ipc/types.js';
import type { HandoffMessage } from '../master/handoff/protocol.js';
import type { ProcessUsage } from './process-usage.js';

export interface SocketOptions {
  /** How many sets of sockets: one per worker slot with reusePort, otherwise one. */
  sets: number;
  reusePort: boolean;
  backlog: number;
  /** Steer each client address to the same set (slot) of a reusePort group. */
  sticky?: boolean;
  /**
   * With no addresses, listen on every socket systemd passed (socket activation). Default
   * true; `overseer run` leaves them to the app's own listens.
   */
  adoptPassed?: boolean;
  /** A new master's sockets, from the old one (handoff): used as they are. */
  handedOver?: HandedSockets;
}

/** How one worker gets its listeners: spawn's stdio entries, and what to do once it runs. */
export interface ListenerPassing {
  /** Entries for stdio after 0-2 (POSIX: the listening fds, which become 3, 4, …). */
  readonly stdio: number[];
  /** Called with the spawned worker (Windows: answer its request for the handles). */
  attach(child: ChildProcess): void;
}

/** The master's listening sockets. The master never accepts on them. */
export interface MasterSockets {
  /** The bound addresses in config order, with real ports for ':0'. */
  readonly addresses: readonly string[];
  /** What a worker of slot `slot` needs to get its listeners. */
  passTo(slot: number): ListenerPassing;
  /** The listeners for a server in this very process (overseer/testing), in address order. */
  inProcess(slot: number): Listener[];
  /**
   * A stop: closes this master's copies of the sockets now, so that once its workers have
   * closed theirs a connection is refused, as after a plain server's close(), instead of
   * queued for no one; the files stay for close().
   */
  shut(): void;
  /** Closes every socket and removes the unix socket files this master created, unless `keepFiles`. */
  close(keepFiles?: boolean): void;
  /** POSIX: the fds and what goes with them, for a master handoff. */
  handoff?(): HandedSockets;
}

/** A socket the master made for a worker's own server.listen(), kept for the master's life. */
export interface RoutedSocket {
  /** What goes to a worker over the IPC channel (a handle it listens on). */
  readonly handle: unknown;
  /** POSIX: its fd, for a master handoff. */
  readonly fd?: number;
  /** Passed by systemd (socket activation, the FD store), not made here. */
  readonly adopted?: boolean;
  /** Closes it; `keepFile`: a unix socket's file stays (a new master serves it now). */
  close(keepFile?: boolean): void;
}

/** A master's configured listeners as a handoff carries them (POSIX fds). */
export interface HandedSockets {
  sockets: {
    /** The config address it serves ('127.0.0.1:3000', ':0', 'systemd:web'). */
    config: string;
    /** Where it listens ('127.0.0.1:41234'). */
    address: string;
    fd: number;
    /** A unix socket file the master made, which goes with the last master to hold it. */
    unixPath?: string;
    /** Bound by this master just now (not adopted from systemd or an old master). */
    fresh?: boolean;
  }[];
}

/** One end of a master handoff's private channel. */
export interface HandoffConnection {
  send(message: HandoffMessage, fds?: number[]): Promise<void>;
  receive(timeoutMs: number): Promise<{ message: HandoffMessage; fds: number[] }>;
  peerPid(): number;
  close(): void;
}

export interface HandoffListener {
  readonly path: string;
  /** The connection of the master with this pid (anyone else is turned away). */
  accept(expectedPid: number, timeoutMs: number): Promise<HandoffConnection>;
  close(): void;
}

export interface HandoffTransport {
  listen(): Promise<HandoffListener>;
  connect(path: string, timeoutMs: number): Promise<HandoffConnection>;
  /** A new master whose old one died mid-handoff: removes what that one's listener at `path` left. */
  forget?(path: string): void;
  /** At a master's start: removes what the listeners of this user's dead masters left. */
  sweep?(): void;
}

/** The master's own end of each worker's channel (POSIX): what it needs of the OS for it. */
export interface OwnChannel {
  /**
   * Writes `data` on the connected unix socket `socketFd` with a copy of `fd` attached
   * (SCM_RIGHTS), off the event loop. Nothing else may write on that socket meanwhile. It
   * fails with EMFILE or ENFILE only before it has written anything.
   */
  sendFd(socketFd: number, fd: number, data: Buffer, timeoutMs: number): Promise<void>;
}

export interface Platform {
  /** Whether the master/worker model can run here (the addon and what it needs). */
  supported(): boolean;
  /** Master: makes the listening sockets, never accepting on them. */
  openSockets(addrs: readonly ListenAddress[], opts: SocketOptions): Promise<MasterSockets>;
  /**
   * Master: how the channel to each worker is made. Given: a plain socket whose end the master
   * reads and writes itself, framed and bounded (master/worker-channel.ts), while the worker's
   * Node runs its ordinary IPC channel on its end. Undefined: Node's own IPC channel (Windows,
   * where only Node's channel can carry a socket to another process).
   */
  readonly ownChannel?: OwnChannel;
  /**
   * Master: the socket for what a worker asked to listen on (listen routing); with
   * `reusePort`, one of a SO_REUSEPORT group (a socket per worker slot).
   */
  routedSocket(request: ListenRequest, opts?: { reusePort?: boolean }): Promise<RoutedSocket>;
  /** Master: as PID 1 (a container's init), reaps the orphans it inherits once they exit. */
  reapOrphans(): Promise<void>;
  /** Closes a raw fd (a handed-over socket this master does not use). */
  closeFd(fd: number): void;
  /** Master: a routed socket around an fd a handoff brought (POSIX). */
  routedFromFd(fd: number, path: string | undefined): Promise<RoutedSocket>;
  /** Worker: the listeners the master passed, in address order. */
  receiveListeners(env: Pick<WorkerEnv, 'numFds' | 'addresses'>): Promise<Listener[]>;
  /**
   * Worker: die with the master (`masterPid`, 0 when unknown) where the kernel can arrange it
   * (PDEATHSIG); exits at once if the master is already gone.
   */
  guardOrphan(masterPid: number): void;
  /** The control socket's listener and client for this platform, loaded when first needed. */
  controlSocket(): Promise<IpcPlatform>;
  /**
   * Why another user than this process's (root excepted) could have written `file`, a file
   * the master trusts (a config file, an env file), or undefined. POSIX judges owners and
   * modes as ssh's StrictModes does; Windows leaves it to the file's ACL and says undefined.
   */
  untrustedFile(file: string): string | undefined;
  /** Why `path` cannot be a control socket here (a config mistake), or undefined. */
  ipcPathProblem(path: string): string | undefined;
  /** Signals that shut a master (and a worker) down gracefully. */
  readonly shutdownSignals: readonly NodeJS.Signals[];
  /** Whether the restart signal can be delivered at all; without it restarts use the control socket. */
  readonly restartSignal: boolean;
  /** Whether the master forwards its shutdown signal to workers (else only the shutdown message). */
  readonly forwardSignals: boolean;
  /**
   * Worker: the program hears `signal` as if it came from outside (`overseer run`, after the
   * drain): its handlers run, or without one, the signal's default action ends the process.
   */
  signalSelf(signal: NodeJS.Signals): void;
  /** Whether a child (the sanity check, an app's worker) can be started as a process group of its own. */
  readonly ownProcessGroup: boolean;
  /** Kills a helper started with `detached: ownProcessGroup`, and on POSIX its whole group. */
  killProcessGroup(child: ChildProcess): void;
  /** The master handoff's channel (reexec); rejects where a master cannot hand its sockets over. */
  handoff(): Promise<HandoffTransport>;
  /**
   * The CPU time and memory of a process of ours (a worker, the master itself), read from the OS
   * without asking it; undefined where the platform cannot tell (or it has gone).
   */
  processUsage(pid: number): ProcessUsage | undefined;
  /** Puts a staged file in binPath's place; `sea`: binPath is the running executable. */
  replaceFile(tempPath: string, binPath: string, sea: boolean): void;
  /** Master start: removes what an earlier upgrade could not (a renamed-aside .exe). */
  cleanupAfterUpgrade(binPath: string): void;
}
