// The master's control socket: where it lives (by default, a path made from the master's name),
// bringing it up, and taking it down again, its socket file included, however the process
// ends. A master whose name's socket another master serves does not start (NAME_IN_USE).
import type { RequestListener } from 'node:http';
import net from 'node:net';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { platform as realPlatform } from '../os/index.js';
import type { Platform } from '../os/types.js';
import type { ApiTarget } from './http-api.js';
import type { IpcPlatform } from './ipc/types.js';
import { LazyApi } from './lazy-api.js';

export interface ControlSocketOptions {
  /** undefined: the name's path; '' is handled by the caller (none). */
  path: string | undefined;
  /** The master's name. */
  name: string;
  /** An old master's control socket, bound at `path` (a handoff). */
  fd?: number;
  handler?: RequestListener | undefined;
  securityDescriptor?: string | undefined;
  /** An accept failed (out of fds): the socket pauses and accepts again a moment later. */
  onAcceptError?: ((err: Error) => void) | undefined;
}

export class ControlSocket {
  private server: net.Server | undefined;
  private readonly onExit = (): void => this.close();

  private constructor(
    readonly path: string,
    server: net.Server,
    private readonly ipc: IpcPlatform,
    private readonly api: LazyApi,
    /** Listens at `path` anew, on a new socket. */
    private readonly bindAgain: () => Promise<net.Server>,
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
    const path = opts.path ?? ipc.namedPath(opts.name);
    const sddl = opts.securityDescriptor;
    const load = () => import('./http-api.js');
    const api = new LazyApi(async () => (await load()).createApiServer(target, opts.handler), load);
    const listen = async (fd: number | undefined): Promise<net.Server> => {
      const server = net.createServer();
      api.serve(server);
      await ipc.listenIPC(path, {
        server,
        ...(sddl === undefined ? {} : { securityDescriptor: sddl }),
        ...(fd === undefined ? {} : { fd }),
        ...(opts.onAcceptError === undefined ? {} : { onAcceptError: opts.onAcceptError }),
      });
      return server;
    };
    let server: net.Server;
    try {
      server = await listen(opts.fd);
    } catch (err) {
      if (opts.path === undefined && errorCode(err) === 'EADDRINUSE') {
        throw (await answeringAt(ipc, opts.name, path, true)) ?? err;
      }
      throw err;
    }
    debug('control socket at %s', path);
    api.prepare();
    // Earlier versions' sockets of killed masters fill up os.tmpdir(); tidy it, in the background.
    if (opts.path === undefined) {
      ipc.sweepStaleIPC().catch((err: unknown) => debug('ipc: sweep failed: %s', errorMessage(err)));
    }
    return new ControlSocket(path, server, ipc, api, () => listen(undefined));
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
    this.api.closeAllConnections();
    this.server = undefined;
    process.off('exit', this.onExit);
    if (!this.keepFile) this.ipc.cleanupIPC(this.path);
  }
}

/**
 * ERR_OVERSEER_NAME_IN_USE when a master of this user answers at a path of `name`, naming its
 * pid; ERR_OVERSEER_INVALID_CONFIG when the name's path is too long for a socket; else undefined
 * (nothing there, a stale socket, or a directory that open() will refuse).
 */
export async function nameInUse(
  name: string,
  platform: Pick<Platform, 'controlSocket'> = realPlatform,
): Promise<Error | undefined> {
  const ipc = await platform.controlSocket();
  try {
    ipc.namedPath(name);
  } catch (err) {
    // A name no socket can take (too long a path) would leave the master with no control
    // socket, and its name unguarded; a directory open() will refuse is only a warning there.
    if (errorCode(err) === 'ERR_OVERSEER_INVALID_CONFIG') return err as Error;
  }
  let paths: string[];
  try {
    paths = ipc.namedPaths(name);
  } catch {
    return undefined;
  }
  for (const path of paths) {
    const err = await answeringAt(ipc, name, path);
    if (err) return err;
  }
  return undefined;
}

/** The error for `name`, when a master answers at `path`; `surely`: one listens, answering or not. */
async function answeringAt(
  ipc: IpcPlatform,
  name: string,
  path: string,
  surely = false,
): Promise<Error | undefined> {
  let pid: number | undefined;
  try {
    // Mostly nothing listens there: the HTTP client is loaded only when something does.
    if (!surely) (await ipc.dialIPC(path)).destroy();
    const { ipcRequest } = await import('./client.js');
    const r = await ipcRequest(path, 'GET', '/overseer/status', 2_000);
    const answer = (r.body as { pid?: unknown } | null)?.pid;
    if (typeof answer === 'number') pid = answer;
  } catch {
    if (!surely) return undefined;
  }
  const who = pid === undefined ? `at ${path}` : `(pid ${pid}, at ${path})`;
  return Object.assign(
    codedError(
      Error,
      'ERR_OVERSEER_NAME_IN_USE',
      `overseer: a master named '${name}' is already running ${who}: stop it, replace it with \`overseer reexec ${name}\`, or give this one another name`,
    ),
    { pid },
  );
}
