// Listen routing, the master's side: a worker's own server.listen(port) asks the master for
// the socket, which the master makes once and keeps for its whole life, handing the same
// socket to every worker that asks for the same address, in this generation and the next.
// So a restart is hitless for a program that never heard of overseer, the port stays open
// (and queues connections) while no worker is alive, and listen(0) in several workers gives
// them one shared port, as in node:cluster. The master still never accepts.
import type { ListenRequest } from '../contract/messages.js';
import { debug } from '../log.js';
import { platform, type RoutedSocket } from '../os/index.js';
import { noteFdExhaustion } from './fd-exhaustion.js';

/** The socket a request names: listen(0) twice in one worker is two ports, in two workers one. */
export function routeKey(r: ListenRequest): string {
  if (r.path !== undefined) return `pipe:${r.path}`;
  const port = r.port ?? 0;
  return `tcp:${r.host ?? ''}:${port}${port === 0 ? `#${r.index}` : ''}${r.ipv6Only ? ':v6only' : ''}`;
}

export class ListenRoutes {
  /** `reusePort`: each worker slot gets a SO_REUSEPORT socket of its own for each TCP address. */
  constructor(private readonly reusePort = false) {}

  readonly #sockets = new Map<string, Promise<RoutedSocket>>();
  /** The sockets made so far (and their unix paths), to close synchronously when the process exits. */
  readonly #made = new Map<RoutedSocket, { socketKey: string; path: string | undefined }>();
  readonly #onExit = (): void => this.close();
  #exitHooked = false;
  /** Set once a new master serves these sockets' files (a handoff): they stay when these close. */
  keepFiles = false;
  /** Told of each socket made here (not adopted): systemd's FD store keeps it. */
  onMade: ((key: string, fd: number) => void) | undefined;

  #hookExit(): void {
    if (!this.#exitHooked) process.once('exit', this.#onExit);
    this.#exitHooked = true;
  }

  /** The socket for `request`, made on first ask; a failed one is forgotten, so a retry tries again. */
  async route(request: ListenRequest, slot = 0): Promise<{ key: string; handle: unknown }> {
    const key = routeKey(request);
    // listen(0) stays one shared socket: a group needs one port, known before the first bind.
    const perSlot = this.reusePort && request.path === undefined && (request.port ?? 0) !== 0;
    const socketKey = perSlot ? `${key}@${slot}` : key;
    let socket = this.#sockets.get(socketKey);
    if (socket === undefined) {
      socket = platform.routedSocket(request, { reusePort: perSlot });
      this.#sockets.set(socketKey, socket);
      this.#hookExit();
      socket.then(
        (s) => {
          this.#made.set(s, { socketKey, path: request.path });
          if (s.fd !== undefined && s.adopted !== true) this.onMade?.(socketKey, s.fd);
          debug('routed listen %s: socket made', key);
        },
        (err: unknown) => {
          this.#sockets.delete(socketKey);
          noteFdExhaustion(err, `the socket for a worker's listen on ${key} could not be made`);
        },
      );
    }
    return { key, handle: (await socket).handle };
  }

  /** What workers listen on through the master, for status (a reusePort group once). */
  keys(): string[] {
    return [...new Set([...this.#sockets.keys()].map((k) => k.replace(/@\d+$/, '')))];
  }

  /** The sockets made so far, for a master handoff: their keys, fds and unix paths. */
  handoff(): { key: string; fd: number; path?: string }[] {
    return [...this.#made].flatMap(([s, { socketKey, path }]) =>
      s.fd === undefined ? [] : [{ key: socketKey, fd: s.fd, ...(path === undefined ? {} : { path }) }],
    );
  }

  /** A new master's: the routed sockets of the old one, served again under the same keys. */
  async adopt(sockets: readonly { key: string; fd: number; path?: string }[]): Promise<void> {
    for (const { key, fd, path } of sockets) {
      const socket = await platform.routedFromFd(fd, path);
      this.#sockets.set(key, Promise.resolve(socket));
      this.#made.set(socket, { socketKey: key, path });
      this.#hookExit();
    }
  }

  /** Closes every socket (a unix socket's file goes with it, unless keepFiles). */
  close(): void {
    for (const s of this.#made.keys()) s.close(this.keepFiles);
    this.#made.clear();
    this.#sockets.clear();
    process.off('exit', this.#onExit);
    this.#exitHooked = false;
  }
}
