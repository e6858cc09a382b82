// The master's listening sockets on POSIX: raw fds made by the addon, which the master's
// own event loop never sees, so the master never accepts a connection it cannot serve.
// They reach workers as inherited fds 3, 4, … through spawn's stdio array.
import fs from 'node:fs';
import nodePath from 'node:path';
import { formatAddress, type ListenAddress } from '../address.js';
import { isAbstractSocket, type ListenRequest } from '../contract/messages.js';
import { codedError } from '../errors.js';
import { debug } from '../log.js';
import { claim, named, passedFds, storedName, unclaimed } from './activation.js';
import { native } from './native.js';
import { socketFileState } from './posix-stale-socket.js';
import { bindPipe, uvError, wrapFd } from './server-handle.js';
import type { MasterSockets, RoutedSocket, SocketOptions } from './types.js';

type Entry =
  | { kind: 'bind'; config: string; addr: Exclude<ListenAddress, { kind: 'systemd' }> }
  | { kind: 'adopt'; config: string; fd: number; text: string; unixPath?: string };

/** An fd's address as people write it. */
function describedAddress(fd: number): string {
  const d = native().describeFd(fd);
  if (d.family === 'unix') return `unix:${d.path ?? ''}`;
  const host = d.family === 'IPv6' ? `[${d.address}]` : (d.address ?? '');
  return `${host}:${d.port ?? 0}`;
}

/** What systemd passed for a `systemd:` address, checked to be listening stream sockets. */
function adopt(addr: Extract<ListenAddress, { kind: 'systemd' }>): Entry[] {
  // Not the sockets a master kept in the FD store itself: those come back by their own names.
  const chosen = named(
    passedFds().filter((f) => addr.name !== undefined || !f.name.startsWith('overseer')),
    addr.name,
  );
  if (chosen.length === 0) {
    const why = addr.name === undefined ? 'no socket' : `no socket named '${addr.name}'`;
    throw codedError(
      Error,
      'ERR_OVERSEER_NO_SYSTEMD_SOCKET',
      `overseer: ${addr.text}: systemd passed ${why} (LISTEN_FDS, LISTEN_FDNAMES)`,
    );
  }
  const n = native();
  return chosen.map(({ fd, name }) => {
    const d = n.describeFd(fd);
    if (!d.listening || d.type !== 'stream') {
      throw codedError(
        Error,
        'ERR_OVERSEER_BAD_LISTENER',
        `overseer: systemd's fd ${fd} ('${name}') is not a listening stream socket`,
      );
    }
    n.setCloexec(fd, true); // ours now: a worker gets it only through its stdio array
    claim(fd);
    return { kind: 'adopt' as const, config: addr.text, fd, text: describedAddress(fd) };
  });
}

/**
 * The addresses as sockets to bind or to adopt: an old master's (a handoff), systemd's, or
 * new ones. No address, under socket activation, means all of systemd's.
 */
function entries(addrs: readonly ListenAddress[], opts: SocketOptions): Entry[] {
  // An old master's sockets, by the config text they served and by where they listen.
  const handed = new Map<string, Entry[]>();
  const at = new Map<string, Entry>();
  for (const h of opts.handedOver?.sockets ?? []) {
    const entry: Entry = { kind: 'adopt', config: h.config, fd: h.fd, text: h.address };
    if (h.unixPath !== undefined) entry.unixPath = h.unixPath;
    handed.set(h.config, [...(handed.get(h.config) ?? []), entry]);
    at.set(h.address, entry);
  }
  const taken = new Set<number>();
  const handedFor = (addr: ListenAddress): Entry[] | undefined => {
    const theirs = handed.get(addr.text) ?? (addr.kind === 'systemd' ? undefined : byAddress(addr));
    if (theirs === undefined || theirs.some((e) => e.kind === 'adopt' && taken.has(e.fd))) return undefined;
    for (const e of theirs) if (e.kind === 'adopt') taken.add(e.fd);
    return theirs.map((e) => ({ ...e, config: addr.text }));
  };
  /** '127.0.0.1:3000' (not ':0') or a unix path the old master listens on. */
  const byAddress = (addr: Exclude<ListenAddress, { kind: 'systemd' }>): Entry[] | undefined => {
    if (addr.kind === 'tcp' && addr.port === 0) return undefined;
    const e = at.get(addr.kind === 'unix' ? addr.text : formatAddress(addr));
    return e && [e];
  };
  const all: ListenAddress = { kind: 'systemd', name: undefined, text: 'systemd:' };
  const passed = passedFds(); // read (and out of the environment) before any worker starts
  const byDefault = (opts.adoptPassed ?? true) && (passed.length > 0 || handed.has(all.text));
  const list = addrs.length === 0 && byDefault ? [all] : addrs;
  return list.flatMap((addr): Entry[] => {
    const theirs = handedFor(addr);
    if (theirs !== undefined) return theirs;
    if (addr.kind === 'systemd') return adopt(addr);
    // A socket this master (or the one before it) kept in systemd's FD store, back after a restart.
    const stored = unclaimed().find((f) => f.name === storedName('config', addr.text));
    if (stored !== undefined) {
      claim(stored.fd);
      native().setCloexec(stored.fd, true);
      const entry: Entry = {
        kind: 'adopt',
        config: addr.text,
        fd: stored.fd,
        text: describedAddress(stored.fd),
      };
      if (addr.kind === 'unix') entry.unixPath = addr.path;
      return [entry];
    }
    return [{ kind: 'bind', config: addr.text, addr }];
  });
}

export async function openSockets(
  addrs: readonly ListenAddress[],
  opts: SocketOptions,
): Promise<MasterSockets> {
  const n = native();
  const sets: number[][] = [];
  const unixPaths: string[] = [];
  const shut = (): void => {
    for (const fd of sets.flat()) {
      try {
        n.close(fd);
      } catch {}
    }
    sets.length = 0; // closed once: an fd number may be another file's by the next call
  };
  const close = (keepFiles = false): void => {
    shut();
    for (const p of unixPaths.splice(0)) if (!keepFiles) fs.rmSync(p, { force: true });
  };
  const bound: string[] = [];
  const list = entries(addrs, opts);
  // An old master's unused sockets close with it; the ones taken here are this master's.
  try {
    for (let s = 0; s < opts.sets; s++) {
      const fds: number[] = [];
      sets.push(fds);
      for (const [i, entry] of list.entries()) {
        // One socket for every set: an adopted one, a unix socket, or without reusePort.
        if (s > 0 && (entry.kind === 'adopt' || entry.addr.kind === 'unix' || !opts.reusePort)) {
          fds.push(n.dup(sets[0]![i]!));
          continue;
        }
        if (entry.kind === 'adopt') {
          fds.push(entry.fd);
          bound.push(entry.text);
          if (entry.unixPath !== undefined) unixPaths.push(entry.unixPath);
          continue;
        }
        const addr = entry.addr;
        if (addr.kind === 'unix') {
          await clearStaleSocket(addr.path);
          fds.push(n.unixListen(addr.path, opts.backlog));
          unixPaths.push(addr.path);
          bound.push(addr.text);
          continue;
        }
        // With reusePort and ':0', every set after the first binds the port the first one got.
        const port = s === 0 ? addr.port : Number(bound[i]!.slice(bound[i]!.lastIndexOf(':') + 1));
        const fd = n.tcpListen({
          host: addr.host,
          port,
          backlog: opts.backlog,
          ipv6Only: false, // '::' and '' are dual-stack, as in Node
          reusePort: opts.reusePort,
        });
        fds.push(fd);
        if (s === 0) bound.push(formatAddress(addr, n.describeFd(fd).port));
      }
    }
    if (opts.sticky) {
      // One program serves the whole group; the group's order is the sets' bind order.
      for (const [i, entry] of list.entries()) {
        if (entry.kind === 'bind' && entry.addr.kind === 'tcp')
          n.steerReuseportBySource(sets[0]![i]!, opts.sets);
      }
    }
  } catch (err) {
    close();
    throw err;
  }
  debug('listening on %s (%d socket set(s))', bound.join(', '), sets.length);
  const fdsFor = (slot: number): number[] => [...(sets[opts.reusePort ? slot : 0] ?? [])];
  return {
    addresses: bound,
    passTo: (slot) => ({ stdio: fdsFor(slot), attach: () => {} }),
    // A dup, so that the server closing its fd leaves the master's open.
    inProcess: (slot) => fdsFor(slot).map((fd, i) => ({ fd: n.dup(fd), address: bound[i] ?? '' })),
    shut,
    close,
    // Set 0's sockets: a new master shares each of them across its slots.
    handoff: () => ({
      sockets: list.map((entry, i) => {
        const path =
          entry.kind === 'adopt' ? entry.unixPath : entry.addr.kind === 'unix' ? entry.addr.path : undefined;
        return {
          config: entry.config,
          address: bound[i] ?? '',
          fd: sets[0]![i]!,
          ...(entry.kind === 'bind' ? { fresh: true } : {}),
          ...(path !== undefined && unixPaths.includes(path) ? { unixPath: path } : {}),
        };
      }),
    }),
  };
}

/** A socket systemd passed that serves what an app's listen() asks for: the same port, or path. */
function passedFor(request: ListenRequest): number | undefined {
  const n = native();
  for (const { fd } of unclaimed()) {
    const d = n.describeFd(fd);
    if (!d.listening || d.type !== 'stream') continue;
    const same =
      request.path === undefined
        ? d.family !== 'unix' && request.port !== 0 && d.port === request.port
        : d.family === 'unix' && d.path === request.path;
    if (!same) continue;
    n.setCloexec(fd, true);
    claim(fd);
    return fd;
  }
  return undefined;
}

/**
 * A socket for a worker's own server.listen() (listen routing): made by the addon, as the
 * configured ones are, and handed over as a handle that wraps the fd, never listened on here.
 */
export async function openRoutedSocket(request: ListenRequest, reusePort: boolean): Promise<RoutedSocket> {
  const n = native();
  const backlog = request.backlog ?? 511;
  const passed = passedFor(request);
  if (passed !== undefined) return { ...routedFromFd(passed, undefined), adopted: true }; // systemd's
  let fd: number;
  if (request.path !== undefined && isAbstractSocket(request.path)) {
    // No file: nothing stale to clear, no mode to set; a live name is the kernel's EADDRINUSE.
    fd = abstractListen(request.path, backlog);
  } else if (request.path !== undefined) {
    await clearStaleSocket(request.path);
    // sun_path holds ~100 bytes: bind by the shorter of the path and its relative form, which
    // starts with './' where the addon would take a leading '@' for the abstract namespace.
    const rel = nodePath.relative(process.cwd(), request.path);
    const relative = rel.startsWith('@') ? `./${rel}` : rel;
    fd = n.unixListen(relative.length < request.path.length ? relative : request.path, backlog);
    if (request.readableAll || request.writableAll) {
      // net's readableAll/writableAll: bits for everyone, added to what the umask left.
      const mode = (request.readableAll ? 0o444 : 0) | (request.writableAll ? 0o222 : 0);
      try {
        fs.chmodSync(request.path, fs.statSync(request.path).mode | mode);
      } catch (err) {
        n.close(fd); // the worker's listen fails: the master keeps nothing of it
        fs.rmSync(request.path, { force: true });
        throw err;
      }
    }
  } else {
    fd = n.tcpListen({
      host: request.host ?? '',
      port: request.port ?? 0,
      backlog,
      ipv6Only: request.ipv6Only ?? false,
      reusePort,
    });
  }
  return routedFromFd(fd, request.path);
}

/**
 * A listening socket on a name in Linux's abstract namespace, bound by Node's own pipe, so at the
 * length this Node's clients connect to (libuv before 1.48, as in Node 20, pads the name to all
 * of sun_path; libuv #4266), where the addon's '@name' is the name alone. The pipe listens, and a
 * dup of its fd is kept; the pipe is closed in the same tick, before libuv could accept on it.
 */
function abstractListen(path: string, backlog: number): number {
  const pipe = bindPipe(path);
  if (typeof pipe === 'number') throw uvError(pipe, 'bind', path);
  try {
    const err = pipe.listen(backlog);
    if (err !== 0) throw uvError(err, 'listen', path);
    return native().dup(pipe.fd);
  } finally {
    pipe.close();
  }
}

/** A routed socket around a listening fd; `path`: its unix socket file, removed with it. */
export function routedFromFd(fd: number, path: string | undefined): RoutedSocket {
  const file = path !== undefined && !isAbstractSocket(path) ? path : undefined;
  const handle = wrapFd(fd);
  if (typeof handle === 'number') {
    native().close(fd);
    const err = codedError(
      Error,
      'ERR_OVERSEER_SOCKET_HANDLE',
      `overseer: cannot wrap fd ${fd} (libuv error ${handle})`,
    );
    throw Object.assign(err, { errno: handle });
  }
  // Held for the master's lifetime, but never a reason for it to stay alive.
  handle.unref();
  return {
    handle,
    fd,
    close: (keepFile = false) => {
      handle.close();
      if (file !== undefined && !keepFile) fs.rmSync(file, { force: true });
    },
  };
}

/** A socket file left by a killed master is removed; a live one is EADDRINUSE. */
async function clearStaleSocket(path: string): Promise<void> {
  const state = await socketFileState(path).catch((err: Error) => {
    throw codedError(Error, 'EEXIST', `listen EEXIST: ${err.message}`);
  });
  if (state === 'stale') {
    debug('removing stale socket %s', path);
    fs.rmSync(path, { force: true });
    return;
  }
  if (state === 'live') {
    const err = codedError(Error, 'EADDRINUSE', `listen EADDRINUSE: address already in use ${path}`);
    Object.assign(err, { syscall: 'listen', address: path });
    throw err;
  }
}
