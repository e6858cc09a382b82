// The master's control socket: where it lives (by default, a path made from the master's name),
// bringing it up, and taking it down again, its socket file included, however the process
// ends. A master whose name's socket another master serves does not start (NAME_IN_USE).
import type { RequestListener, Server } from 'node:http';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { platform as realPlatform } from '../os/index.js';
import type { Platform } from '../os/types.js';
import { ipcRequest } from './client.js';
import { type ApiTarget, createApiServer } from './http-api.js';
import type { IpcPlatform } from './ipc/types.js';

export interface ControlSocketOptions {
  /** undefined: the name's path; '' is handled by the caller (none). */
  path: string | undefined;
  /** The master's name. */
  name: string;
  /** An old master's control socket, bound at `path` (a handoff). */
  fd?: number;
  handler?: RequestListener | undefined;
  securityDescriptor?: string | undefined;
}

export class ControlSocket {
  private server: Server | undefined;
  private readonly onExit = (): void => this.close();

  private constructor(
    readonly path: string,
    server: Server,
    private readonly ipc: IpcPlatform,
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
    const server = createApiServer(target, opts.handler);
    const sddl = opts.securityDescriptor;
    try {
      await ipc.listenIPC(path, {
        server,
        ...(sddl === undefined ? {} : { securityDescriptor: sddl }),
        ...(opts.fd === undefined ? {} : { fd: opts.fd }),
      });
    } catch (err) {
      if (opts.path === undefined && errorCode(err) === 'EADDRINUSE') {
        throw (await answeringAt(opts.name, path, true)) ?? err;
      }
      throw err;
    }
    debug('control socket at %s', path);
    // Earlier versions' sockets of killed masters fill up os.tmpdir(); tidy it, in the background.
    if (opts.path === undefined) {
      ipc.sweepStaleIPC().catch((err: unknown) => debug('ipc: sweep failed: %s', errorMessage(err)));
    }
    return new ControlSocket(path, server, ipc);
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

/**
 * ERR_OVERSEER_NAME_IN_USE when a master of this user answers at a path of `name`, naming its
 * pid; else undefined (nothing there, a stale socket, or a directory that open() will refuse).
 */
export async function nameInUse(
  name: string,
  platform: Pick<Platform, 'controlSocket'> = realPlatform,
): Promise<Error | undefined> {
  const ipc = await platform.controlSocket();
  let paths: string[];
  try {
    paths = ipc.namedPaths(name);
  } catch {
    return undefined;
  }
  for (const path of paths) {
    const err = await answeringAt(name, path);
    if (err) return err;
  }
  return undefined;
}

/** The error for `name`, when a master answers at `path`; `surely`: one listens, answering or not. */
async function answeringAt(name: string, path: string, surely = false): Promise<Error | undefined> {
  let pid: number | undefined;
  try {
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
