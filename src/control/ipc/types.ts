// The control socket's platform seam: each platform file implements this shape.
import type net from 'node:net';

export interface IpcListenOptions {
  /** The server to listen (an http.Server, say); a plain net.Server by default. */
  server?: net.Server;
  /** Called for each new connection before a byte is read; false refuses it. */
  admit?(socket: net.Socket): boolean;
  /** Windows: the pipe's security descriptor (SDDL). Ignored elsewhere. */
  securityDescriptor?: string;
  /** POSIX: listen on this socket, already bound at the path (an old master's, after a handoff). */
  fd?: number;
  /** An accept failed (no fd left: EMFILE, ENFILE); POSIX pauses accepting and tries again. */
  onAcceptError?(err: Error): void;
}

export interface IpcPlatform {
  /** Listens on `path`; only admitted connections reach the server's 'connection' listeners. */
  listenIPC(path: string, options?: IpcListenOptions): Promise<net.Server>;
  /** A socket connected to a control socket. */
  dialIPC(path: string): Promise<net.Socket>;
  /**
   * Where this process, as the master named `name`, puts its control socket by default: in a
   * place only this user can use, made when missing, and checked (ERR_OVERSEER_IPC_DIR).
   */
  namedPath(name: string): string;
  /** Where a master named `name` of this user may listen (each place checked), for clients. */
  namedPaths(name: string): string[];
  /** The control sockets of this user's masters that may be running (for `overseer ls`). */
  listIPCPaths(): string[];
  /** Removes the default control sockets of this user's masters that died without cleaning up. */
  sweepStaleIPC(): Promise<string[]>;
  /** The fd a control server listens on (POSIX), for a master handoff. */
  serverFd?(server: net.Server): number | undefined;
  /** Stops what listenIPC started and removes what it left behind (a socket file). */
  cleanupIPC(path: string): void;
}
