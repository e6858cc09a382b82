// The master's control socket: where it lives, bringing it up, and taking it down again,
// its socket file included, however the process ends.
import { randomBytes } from 'node:crypto';
import type { RequestListener, Server } from 'node:http';
import { errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { platform as realPlatform } from '../os/index.js';
import type { Platform } from '../os/types.js';
import { type ApiTarget, createApiServer } from './http-api.js';
import type { IpcPlatform } from './ipc/types.js';

export interface ControlSocketOptions {
  /** undefined: a fresh path with a random token; '' is handled by the caller (none). */
  path: string | undefined;
  /** An old master's control socket, bound at `path` (a handoff). */
  fd?: number;
  handler?: RequestListener | undefined;
  securityDescriptor?: string | undefined;
  /** An accept failed (out of fds): the socket pauses and accepts again a moment later. */
  onAcceptError?: ((err: Error) => void) | undefined;
}

export class ControlSocket {
  private server: Server | undefined;
  private readonly onExit = (): void => this.close();

  private constructor(
    readonly path: string,
    server: Server,
    private readonly ipc: IpcPlatform,
    /** Listens at `path` anew, on a new socket. */
    private readonly bindAgain: () => Promise<Server>,
  ) {
    this.server = server;
    process.once('exit', this.onExit);
  }

  /** Serves the API for `target` on a new control socket; throws when it cannot listen. */
  static async open(
    target: ApiTarget,
    opts: ControlSocketOptions,
    platform: Pick<Platform, 'controlSocket'> = realPlatform,
  ): Promise<ControlSocket> {
    const ipc = await platform.controlSocket();
    // The token keeps masters apart and the path unguessable; it is not a secret.
    const path = opts.path ?? ipc.ipcPath(randomBytes(12).toString('hex'));
    const sddl = opts.securityDescriptor;
    const listen = async (fd: number | undefined): Promise<Server> => {
      const server = createApiServer(target, opts.handler);
      await ipc.listenIPC(path, {
        server,
        ...(sddl === undefined ? {} : { securityDescriptor: sddl }),
        ...(fd === undefined ? {} : { fd }),
        ...(opts.onAcceptError === undefined ? {} : { onAcceptError: opts.onAcceptError }),
      });
      return server;
    };
    const server = await listen(opts.fd);
    debug('control socket at %s', path);
    // The default place fills up with the sockets of killed masters; tidy it, in the background.
    if (opts.path === undefined) {
      ipc.sweepStaleIPC().catch((err: unknown) => debug('ipc: sweep failed: %s', errorMessage(err)));
    }
    return new ControlSocket(path, server, ipc, () => listen(undefined));
  }

  /** The socket no longer keeps the process alive (a cluster primary exits with its workers). */
  unref(): void {
    this.server?.unref();
  }

  /** The socket's fd (POSIX), for a master handoff. */
  get fd(): number | undefined {
    return this.server ? this.ipc.serverFd?.(this.server) : undefined;
  }

  /** Set once a new master serves this path (a handoff): closing leaves the file to it. */
  keepFile = false;

  /**
   * A new master whose old one died mid-handoff: when the path no longer leads to a socket that
   * listens (the old master's end removed the file, or left one of its own), it listens at the
   * path again, on a new socket; clients find this master there as before.
   */
  async rebindIfGone(): Promise<void> {
    const old = this.server;
    if (!old) return;
    const reached = await this.ipc.dialIPC(this.path).then(
      (socket) => {
        socket.destroy();
        return true;
      },
      () => false,
    );
    if (reached) return;
    debug('control socket: %s is gone; listening there again', this.path);
    this.server = await this.bindAgain();
    old.close();
  }

  /** A new master serves this socket now: new clients reach it; requests under way finish here. */
  handOver(): void {
    this.keepFile = true;
    this.server?.close();
  }

  close(): void {
    if (!this.server) return;
    this.server.close();
    this.server.closeAllConnections();
    this.server = undefined;
    process.off('exit', this.onExit);
    if (!this.keepFile) this.ipc.cleanupIPC(this.path);
  }
}
