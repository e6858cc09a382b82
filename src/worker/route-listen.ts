// Listen routing, the worker's side (cluster workers, `overseer run`): a program's own
// server.listen(port), listen(path) or listen({ port, host, backlog }) asks the master for
// the socket (which the master makes once and keeps), then listens on the handle it gets, and
// tells the master when it listens and when it has closed. Listens on an fd or a handle are
// left alone. Every routed server drains on shutdown.
import dns from 'node:dns';
import net from 'node:net';
import path from 'node:path';
import util from 'node:util';
import {
  isAbstractSocket,
  type ListeningInfo,
  type ListenRequest,
  type MasterMessage,
  message,
  onMessages,
  type RouteError,
  type WorkerMessage,
} from '../contract/messages.js';
import { ipFamily } from '../ip-family.js';
import type { WorkerDrains } from './worker-drains.js';

type Callback = (...args: unknown[]) => void;

interface Parsed {
  request: Omit<ListenRequest, 'index'>;
  callback: Callback | undefined;
  /** A unix socket's path as the program gave it: what Node's server.address() answers. */
  pipeName?: string;
}

export interface RoutedListens {
  /** Every server that listens through the master now. */
  readonly servers: Set<net.Server>;
}

/** Wraps net.Server#listen in this worker; `send` carries our messages to the master. */
export function routeListens(
  drains: WorkerDrains,
  send: (m: WorkerMessage) => void,
  abandoned: () => boolean = () => false,
): RoutedListens {
  const listen = net.Server.prototype.listen as (this: net.Server, ...args: unknown[]) => net.Server;
  const servers = new Set<net.Server>();
  const pending = new Map<
    number,
    (reply: Extract<MasterMessage, { act: 'routed' }>, handle: unknown) => void
  >();
  const used = new Map<string, Set<number>>();
  let seq = 0;

  onMessages<MasterMessage>(process, (m, handle) => {
    if (m.act !== 'routed') return;
    const done = pending.get(m.seq);
    pending.delete(m.seq);
    done?.(m, handle);
  });

  /** The lowest index not in use for this address in this worker, as node:cluster counts. */
  const takeIndex = (base: string): { index: number; release(): void } => {
    const set = used.get(base) ?? new Set<number>();
    used.set(base, set);
    let index = 0;
    while (set.has(index)) index++;
    set.add(index);
    return { index, release: () => set.delete(index) };
  };

  /** Servers whose route is asked for and not answered yet. */
  const asking = new Set<net.Server>();
  /** Each fixed address's servers in this worker (some may have closed since). */
  const atAddress = new Map<string, Set<net.Server>>();
  /** Asked for, or listening: a closed server's handle is gone at once, before its 'close'. */
  const holds = (s: net.Server): boolean => asking.has(s) || (s as { _handle?: unknown })._handle != null;

  const route = (server: net.Server, parsed: Parsed, host: string | undefined): void => {
    const r = { ...parsed.request, ...(host === undefined ? {} : { host }) };
    const base = r.path ?? `${r.host ?? ''}:${r.port ?? 0}`;
    const fixed = r.path !== undefined || (r.port ?? 0) !== 0;
    const others = atAddress.get(base) ?? new Set<net.Server>();
    for (const s of others) if (!holds(s)) others.delete(s);
    if (fixed && others.size > 0) {
      // Another server of this worker holds the address: node:cluster gives this listen a
      // socket of its own, whose bind fails, as a process's own would; the master would share.
      const where = r.path ?? `${r.host || '::'}:${r.port}`;
      const errno = [...util.getSystemErrorMap()].find(([, [name]]) => name === 'EADDRINUSE')?.[0];
      const inUse = { code: 'EADDRINUSE', syscall: 'bind', ...(errno === undefined ? {} : { errno }) };
      process.nextTick(() =>
        server.emit('error', routeError({ ...inUse, message: `bind EADDRINUSE ${where}` }, r)),
      );
      return;
    }
    if (fixed) atAddress.set(base, others.add(server));
    const { index, release } = takeIndex(base);
    const id = ++seq;
    asking.add(server);
    pending.set(id, (reply, handle) => {
      asking.delete(server);
      if (abandoned()) {
        // The worker is leaving (disconnect): this server does not listen after all.
        release();
        (handle as { close?: () => void } | undefined)?.close?.();
        return;
      }
      if (reply.error !== undefined || handle === undefined) {
        release();
        server.emit('error', routeError(reply.error, r));
        return;
      }
      let listened = false;
      server.once('close', () => {
        release();
        servers.delete(server);
        if (listened) send(message<WorkerMessage>({ act: 'closed', key: reply.key }));
      });
      server.once('listening', () => {
        listened = true;
        const a = server.address();
        const port = typeof a === 'object' && a !== null ? a.port : -1;
        const info: ListeningInfo =
          r.path === undefined
            ? { addressType: ipFamily(r.host ?? ''), address: r.host || null, port, key: reply.key }
            : { addressType: -1, address: r.path, port: -1, key: reply.key };
        send(message<WorkerMessage>({ act: 'listening', info }));
      });
      servers.add(server);
      drains.add(server);
      // Node's listen(path) keeps the path for address(); listen({ handle }) does not.
      if (parsed.pipeName !== undefined) (server as { _pipeName?: string })._pipeName = parsed.pipeName;
      listen.call(server, { handle, ...(r.backlog === undefined ? {} : { backlog: r.backlog }) });
    });
    send(message<WorkerMessage>({ act: 'listen', seq: id, request: { ...r, index } }));
  };

  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]): net.Server {
    const parsed = parse(args);
    // Node's own listen throws ERR_SERVER_ALREADY_LISTEN for a server that listens.
    const listening = (this as { _handle?: unknown })._handle != null;
    if (parsed === undefined || listening) return listen.apply(this, args);
    if (parsed.callback) this.once('listening', parsed.callback);
    const host = parsed.request.host;
    if (host !== undefined && host !== '' && net.isIP(host) === 0) {
      // A name, as Node's own listen takes one: resolved here, routed as an address.
      dns.lookup(host, (err, address) => {
        if (err) this.emit('error', err);
        else route(this, parsed, address);
      });
    } else {
      route(this, parsed, undefined);
    }
    return this;
  } as typeof net.Server.prototype.listen;

  return { servers };
}

/** listen()'s arguments as a request to route, or undefined for what must not be routed. */
function parse(args: unknown[]): Parsed | undefined {
  const parsed = parseArgs(args);
  // A bad port is Node's own error to throw (ERR_SOCKET_BAD_PORT), synchronously.
  if (parsed?.request.port !== undefined && Number.isNaN(parsed.request.port)) return undefined;
  return parsed;
}

function parseArgs(args: unknown[]): Parsed | undefined {
  const last = args.at(-1);
  const callback = typeof last === 'function' ? (last as Callback) : undefined;
  const rest = callback ? args.slice(0, -1) : args;
  const [first, second, third] = rest;
  if (first === undefined || first === null) return { request: { port: 0 }, callback };
  if (typeof first === 'object') {
    const o = first as net.ListenOptions & { fd?: number; handle?: unknown; _handle?: unknown };
    // A handle, an fd, an exclusive or a SO_REUSEPORT listen is the program's own socket.
    const own = o.fd !== undefined || o.handle !== undefined || o._handle !== undefined;
    if (own || o.exclusive || (o as { reusePort?: boolean }).reusePort) return undefined;
    if (o.path !== undefined) {
      const request: Omit<ListenRequest, 'index'> = { path: pipePath(String(o.path)) };
      if (o.readableAll) request.readableAll = true;
      if (o.writableAll) request.writableAll = true;
      return { request: withBacklog(request, o.backlog), callback, pipeName: String(o.path) };
    }
    const request: Omit<ListenRequest, 'index'> = { port: toPort(o.port) };
    if (o.host !== undefined) request.host = o.host;
    if (o.ipv6Only) request.ipv6Only = true;
    return { request: withBacklog(request, o.backlog), callback };
  }
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const request: Omit<ListenRequest, 'index'> = { port: toPort(first) };
    if (typeof second === 'string') request.host = second;
    const backlog = typeof second === 'number' ? second : third;
    return { request: withBacklog(request, backlog), callback };
  }
  if (typeof first === 'string')
    return { request: withBacklog({ path: pipePath(first) }, second), callback, pipeName: first };
  return undefined;
}

/**
 * A unix socket path as this worker means it (relative to its cwd); Windows pipe names and Linux's
 * abstract names as they are.
 */
function pipePath(p: string): string {
  return process.platform === 'win32' || isAbstractSocket(p) ? p : path.resolve(p);
}

function withBacklog<T extends Omit<ListenRequest, 'index'>>(r: T, backlog: unknown): T {
  if (typeof backlog === 'number' && Number.isInteger(backlog) && backlog >= 0) r.backlog = backlog;
  return r;
}

function toPort(v: unknown): number {
  const n = Number(v ?? 0);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : Number.NaN;
}

/** The master's refusal as the error Node's own listen would give. */
function routeError(e: RouteError | undefined, r: Omit<ListenRequest, 'index'>): Error {
  const err = new Error(e?.message ?? 'overseer: the master sent no socket') as NodeJS.ErrnoException & {
    address?: string;
    port?: number;
  };
  if (e?.code !== undefined) err.code = e.code;
  if (e?.errno !== undefined) err.errno = e.errno;
  err.syscall = e?.syscall ?? 'listen';
  if (r.path !== undefined) err.address = r.path;
  else {
    err.address = r.host ?? '::';
    if (r.port !== undefined) err.port = r.port;
  }
  return err;
}
