// Listen routing, the master's side: a worker's own server.listen(port) asks the master for
// the socket, which the master makes once and hands to every worker that asks for the same
// address, in this generation and the next. So a restart is hitless for a program that never
// heard of overseer, the port stays open (and queues connections) while its slot's worker is
// down, and listen(0) in several workers gives them one shared port, as in node:cluster. The
// master still never accepts. What it keeps is bounded (ROUTED_LISTENS), and a socket that no
// worker holds and no slot serves any more is closed (slot-listens.ts says which those are).
import { formatAddress } from '../address.js';
import type { ListenRequest } from '../contract/messages.js';
import { codedError } from '../errors.js';
import { debug } from '../log.js';
import { platform, type RoutedSocket } from '../os/index.js';
import type { ServerHandle } from '../os/server-handle.js';
import { noteFdExhaustion } from './fd-exhaustion.js';
import type { HandedRoute } from './handoff/protocol.js';

/**
 * The bounds on listen routing: the distinct addresses one worker may have routed at once, the
 * sockets one master keeps, and how long a socket that nothing holds stays open (ms) before it
 * is closed, so a new worker that opens a port a little after its predecessor went still gets
 * the connections queued on it.
 */
export const ROUTED_LISTENS = { perWorker: 64, perMaster: 1024, unheldMs: 5_000 } as const;

/** What holds a routed socket: a worker of `slot` (or a slot that serves it) listens on `key`. */
export interface RouteHolder {
  key: string;
  slot: number;
}

/** The socket a request names: listen(0) twice in one worker is two ports, in two workers one. */
export function routeKey(r: ListenRequest): string {
  if (r.path !== undefined) return `pipe:${r.path}`;
  const port = r.port ?? 0;
  return `tcp:${r.host ?? ''}:${port}${port === 0 ? `#${r.index}` : ''}${r.ipv6Only ? ':v6only' : ''}`;
}

/** The route key of a socket's key (a reusePort slot's socket is `<key>@<slot>`). */
const routeOf = (socketKey: string): string => socketKey.replace(/@\d+$/, '');

/** The refusal of a listen past a bound, as the worker's listen() reports it. */
export function listenLimit(what: string): Error {
  return codedError(Error, 'ERR_OVERSEER_LISTEN_LIMIT', `overseer: listen refused: ${what}`);
}

/**
 * Where a routed socket listens, as people write it ('127.0.0.1:41234', ':3000', 'unix:/path'),
 * from the socket itself (a port 0 as bound); undefined where it cannot say.
 */
function whereListens(socket: RoutedSocket, key: string): string | undefined {
  if (key.startsWith('pipe:')) return `unix:${key.slice('pipe:'.length)}`;
  const out: { address?: string; port?: number } = {};
  if ((socket.handle as ServerHandle).getsockname?.(out) !== 0) return undefined;
  if (out.address === undefined || out.port === undefined) return undefined;
  // Every interface as '' only where the listen asked for that: an explicit 0.0.0.0 or :: is
  // one family's, and says so.
  const asked = /^tcp:(.*):\d+(?:#\d+)?(?::v6only)?$/.exec(routeOf(key))?.[1];
  const host = asked === '' ? '' : out.address;
  return formatAddress({ kind: 'tcp', host, port: out.port, text: '' });
}

interface Made {
  socketKey: string;
  path: string | undefined;
  /** Since when nothing holds it (ms), while that is so. */
  unheldSince?: number;
}

export class ListenRoutes {
  /**
   * `reusePort`: each worker slot gets a SO_REUSEPORT socket of its own for each TCP address.
   * `perMaster`: how many sockets it keeps at most.
   */
  constructor(
    private readonly reusePort = false,
    private readonly perMaster: number = ROUTED_LISTENS.perMaster,
  ) {}

  readonly #sockets = new Map<string, Promise<RoutedSocket>>();
  /** The sockets made so far (and their unix paths), to close synchronously when the process exits. */
  readonly #made = new Map<RoutedSocket, Made>();
  readonly #onExit = (): void => this.close();
  #exitHooked = false;
  #timer: NodeJS.Timeout | undefined;
  /**
   * Set while these sockets are not this master's alone (a handoff under way, or done): their
   * files stay when they close, and none is released.
   */
  keepFiles = false;
  #shut = false;
  /** Told of each socket made here (not adopted): systemd's FD store keeps it. */
  onMade: ((key: string, fd: number) => void) | undefined;
  /** Told of each socket released (systemd's FD store lets it go). */
  onReleased: ((key: string) => void) | undefined;
  /** What holds the sockets now (set by their owner); release() closes the others. */
  holders: () => Iterable<RouteHolder> = () => [];

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
      if (this.#sockets.size >= this.perMaster) {
        throw listenLimit(`the master keeps ${this.perMaster} routed sockets at most`);
      }
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
    return [...new Set([...this.#sockets.keys()].map(routeOf))];
  }

  /**
   * keys(), as people write addresses: where the master's own socket for each listens (a socket
   * still being made, by its key). What a worker says of its listen never shows here.
   */
  addresses(): string[] {
    const where = new Map<string, string | undefined>();
    for (const [s, { socketKey }] of this.#made) {
      const key = routeOf(socketKey);
      if (where.get(key) === undefined) where.set(key, whereListens(s, key));
    }
    return this.keys().map((k) => where.get(k) ?? k);
  }

  /**
   * Closes each socket that nothing has held for ROUTED_LISTENS.unheldMs (a unix socket's file
   * goes with it), and looks again when the next one's time is up. Sockets systemd passed stay:
   * they are its own. Nothing is released while keepFiles is set.
   */
  release(now = performance.now()): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.keepFiles || this.#shut) return;
    const held = new Set<string>();
    for (const { key, slot } of this.holders()) held.add(key).add(`${key}@${slot}`);
    let next = Number.POSITIVE_INFINITY;
    for (const [s, made] of this.#made) {
      if (held.has(made.socketKey) || s.adopted === true) {
        made.unheldSince = undefined;
        continue;
      }
      made.unheldSince ??= now;
      const left = made.unheldSince + ROUTED_LISTENS.unheldMs - now;
      if (left > 0) {
        next = Math.min(next, left);
        continue;
      }
      debug('routed listen %s: no worker holds it; closed', made.socketKey);
      s.close(false);
      this.#made.delete(s);
      this.#sockets.delete(made.socketKey);
      this.onReleased?.(made.socketKey);
    }
    if (next !== Number.POSITIVE_INFINITY) {
      this.#timer = setTimeout(() => this.release(), next);
      this.#timer.unref();
    }
  }

  /** The sockets made so far, for a master handoff: their keys, fds and unix paths. */
  handoff(): HandedRoute[] {
    return [...this.#made].flatMap(([s, { socketKey, path }]) =>
      s.fd === undefined
        ? []
        : [
            {
              key: socketKey,
              fd: s.fd,
              ...(path === undefined ? {} : { path }),
              ...(s.adopted ? { adopted: true } : {}),
            },
          ],
    );
  }

  /** A new master's: the routed sockets of the old one, served again under the same keys. */
  async adopt(sockets: readonly HandedRoute[]): Promise<void> {
    for (const { key, fd, path, adopted } of sockets) {
      const made = await platform.routedFromFd(fd, path);
      const socket = adopted === true ? { ...made, adopted } : made;
      this.#sockets.set(key, Promise.resolve(socket));
      this.#made.set(socket, { socketKey: key, path });
      this.#hookExit();
    }
  }

  /**
   * A stop: this master closes its handle of every socket now (MasterSockets.shut() says why);
   * the files go at close(), which closing a handle twice does no harm to. Nothing is made or
   * released after.
   */
  shut(): void {
    if (this.#shut) return;
    this.#shut = true;
    clearTimeout(this.#timer);
    for (const s of this.#made.keys()) s.close(true);
    this.#sockets.clear();
  }

  /** Closes every socket (a unix socket's file goes with it, unless keepFiles). */
  close(): void {
    clearTimeout(this.#timer);
    for (const s of this.#made.keys()) s.close(this.keepFiles);
    this.#made.clear();
    this.#sockets.clear();
    process.off('exit', this.#onExit);
    this.#exitHooked = false;
  }
}
