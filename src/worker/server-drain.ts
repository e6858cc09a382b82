// The request-aware drain of a server a worker listens with. Measured here: relying on
// server.close() drops one request per keep-alive connection, because Node reaps idle
// sockets at once and resets accepted-but-silent ones. This drain loses none:
//   1. stop accepting (the listener only, without http's reaping of idle sockets; a
//      server.close() of the app's own during or after the drain is made as gentle, and its
//      callback hears what it would have heard had it come first: no error, one 'close');
//   2. HTTP/1: answer in-flight and further requests with `Connection: close`, from a
//      request listener registered before the app's, so the header is set before it is sent;
//      close a connection only once it is idle, has sent something, and has stayed idle
//      for IDLE_MS (a keep-alive client may have a request on the wire); give a connection
//      that has sent nothing SILENT_GRACE_MS to send its request. Quiet time counts from the
//      drain's start at the earliest, and time this worker did not run (a stalled host: its
//      clients stalled too) does not count;
//   3. HTTP/2: GOAWAY (session.close()): streams in flight finish, new ones go elsewhere;
//   4. upgraded connections (WebSocket) and event streams (SSE) are the program's, which
//      hears gracefulShutdown once no plain HTTP/1 client is left (`clientsOff`): at
//      upgradeGrace what is left of them is ended, a WebSocket with a 1012 close frame;
//   5. at terminateTimeout (a little before the master's SIGKILL) whatever is still open is
//      closed, and a warning names it.
// Until the drain begins it costs nothing per request (issue #22): what it keeps is per
// connection (a Set of sockets, of HTTP/2 sessions) and what it needs of each request it
// reads from http's own state when it begins: `socket._httpMessage` is the response in
// flight, a socket whose parser http has freed was taken over by an 'upgrade' handler, and
// `bytesRead` says whether the client has sent anything. The 'request' listener is added
// when the drain begins.
import type http from 'node:http';
import type { Http2Server, Http2Session, ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import type tls from 'node:tls';
import { debug, warn } from '../log.js';
import { goAway } from './h2-shutdown.js';

/**
 * How long a connection that has served must stay quiet during the drain before it is closed
 * as idle. Closing an idle keep-alive connection always races the client's next request (HTTP/1
 * has no way to say "closing" but on a response), and the race is lost when the client sent
 * nothing for this long only because it did not run: a busy host stalls a client for hundreds
 * of ms (test/busy-host.test.ts; 250 ms here lost 12 requests in a full suite run).
 */
const IDLE_MS = 1_000;
const SILENT_GRACE_MS = 2_000;
const TICK_MS = 50;
/** The worker closes what is left this long before the master's SIGKILL, so it can say what. */
const FORCE_MARGIN_MS = 250;
/**
 * The longest the program waits for gracefulShutdown once the drain has begun: a keep-alive
 * client is off after IDLE_MS of quiet, and a request that takes longer (or a client that
 * connected and sent nothing) must not keep the program from closing what is its own.
 */
export const CLIENTS_OFF_BOUND_MS = IDLE_MS + 1_250;
/** A server's WebSocket close frame (unmasked), code 1012: Service Restart (RFC 6455, IANA). */
const CLOSE_1012 = Buffer.from([0x88, 0x02, 0x03, 0xf4]);

export interface DrainOptions {
  /** Aborts when the drain must begin: the worker is retired. */
  retire: AbortSignal;
  terminateTimeout: number;
  /** ms the program gets to close upgraded connections and event streams itself. */
  upgradeGrace: number;
}

export interface Drain {
  /**
   * Resolves once the drain has begun and no plain HTTP/1 client is left on the server: what
   * is left (upgraded connections, event streams, HTTP/2 sessions) needs the program.
   */
  clientsOff: Promise<void>;
  /** Resolves once the server is closed. */
  closed: Promise<void>;
}

/** What http keeps on a server's socket, read when the drain begins. */
interface HttpSocket extends net.Socket {
  /** The response in flight on it. */
  _httpMessage?: http.ServerResponse | null;
  /** Set by http on each HTTP/1 connection; null once freed (an 'upgrade' handler has it). */
  parser?: unknown;
  alpnProtocol?: string | false | null;
}

/** What the drain knows of a connection once it has begun (nothing before). */
interface Draining {
  /** When it was accepted, or the drain's start for one accepted before it. */
  since: number;
  /** The last time it was seen busy (a response in flight) during the drain; 0 if never. */
  busyAt: number;
}

type AnyResponse = http.ServerResponse | { stream: ServerHttp2Stream };

/** Tracks a server's connections from now on, and drains them when `retire` aborts. */
export function installDrain(server: net.Server, opts: DrainOptions): Drain {
  const { retire } = opts;
  const isHttp2 = typeof (server as Partial<Http2Server>).updateSettings === 'function';
  const isHttp1 = typeof (server as Partial<http.Server>).closeIdleConnections === 'function';
  // TLS servers hand requests the TLS socket, not the raw one. (Asked without loading tls,
  // which a plain http worker never needs.)
  const isTls = typeof (server as Partial<tls.Server>).setSecureContext === 'function';
  const isHttp = isHttp1 || isHttp2;
  const sockets = new Set<HttpSocket>();
  const sessions = new Set<Http2Session>();
  /** Sockets an 'upgrade' handler took as WebSockets: at upgradeGrace they get a close frame. */
  const webSockets = new WeakSet<net.Socket>();
  let draining = false;
  /** Set while the drain runs: hears a connection come and go. */
  let onAccepted: ((socket: HttpSocket) => void) | undefined;
  let onGone: (() => void) | undefined;

  /**
   * TLS: connections still in their handshake (the raw socket, which 'secureConnection' trades
   * for the TLS one). No request can be on them, but net's close() waits for them: one that
   * never sends its ClientHello would hold the drain until the master's SIGKILL.
   */
  const handshaking = new Set<net.Socket>();
  if (isTls) {
    server.on('connection', (raw: net.Socket) => {
      // A Duplex the program hands the server itself gets no `_parent` to be found by.
      if (!(raw instanceof net.Socket)) return;
      handshaking.add(raw);
      raw.once('close', () => {
        handshaking.delete(raw);
        onGone?.();
      });
    });
  }
  server.on(isTls ? 'secureConnection' : 'connection', (socket: HttpSocket) => {
    if (isTls) handshaking.delete((socket as { _parent?: net.Socket })._parent as net.Socket);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      onGone?.();
    });
    onAccepted?.(socket);
  });

  if (isHttp2) {
    server.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      if (draining) goAway(session);
    });
  }
  if (isHttp) watchUpgrades(server, webSockets);

  const h2 = (socket: HttpSocket): boolean => isHttp2 && (!isTls || socket.alpnProtocol === 'h2');
  const upgraded = (socket: HttpSocket): boolean =>
    isHttp && !h2(socket) && socket.parser === null && !socket.destroyed;
  const inFlight = (socket: HttpSocket): http.ServerResponse | undefined => socket._httpMessage ?? undefined;

  if (isHttp1) {
    // Node's server.close() reaps idle keep-alive sockets at once, and a request may be on
    // the wire on any of them. During the drain, the drain decides when a socket is idle.
    const h1 = server as http.Server;
    const closeIdle = h1.closeIdleConnections.bind(h1);
    h1.closeIdleConnections = () => {
      if (!retire.aborted) closeIdle();
    };
  }

  // The drain closes the listener itself; the program's own close() afterwards (its SIGTERM
  // handler, fastify.close()) would get ERR_SERVER_NOT_RUNNING and a second 'close' from net.
  // It hears what it would have heard had its close come first: its callback, with no error,
  // once the server is closed.
  let closedByDrain = false;
  let closed = false;
  let programClosed = false;
  const close = server.close;
  server.close = function (this: net.Server, cb?: (err?: Error) => void) {
    if (!closedByDrain || programClosed) return close.call(this, cb);
    programClosed = true;
    if (typeof cb === 'function') {
      if (closed) process.nextTick(cb);
      else this.once('close', () => cb());
    }
    return this;
  } as typeof server.close;

  let clientsOff: () => void = () => {};
  const off = new Promise<void>((resolve) => {
    clientsOff = resolve;
  });
  const done = new Promise<void>((resolve) => {
    const start = (): void => {
      draining = true;
      // The monotonic clock: a step of the wall clock is no time a client was quiet.
      const t0 = performance.now();
      /** Quiet time counts from here at the earliest: moved on by the time this worker stalled. */
      let from = t0;
      let lastTick = t0;
      debug('drain: %d connections, %d HTTP/2 sessions open', sockets.size, sessions.size);
      const known = new Map<HttpSocket, Draining>();
      const know = (socket: HttpSocket): Draining => {
        let d = known.get(socket);
        if (!d) {
          d = { since: from, busyAt: 0 };
          known.set(socket, d);
        }
        return d;
      };
      /** A response's end: its connection was busy until now. */
      const watch = (socket: HttpSocket, res: http.ServerResponse): void => {
        res.once('close', () => {
          know(socket).busyAt = performance.now();
        });
      };
      // From now on each HTTP/1 connection is told to close with its last request's response,
      // as its head is written: http sends a pipelined request's response after the one before,
      // and drops it once a response that said `close` has gone, so a response with a request
      // after it keeps the connection. (An HTTP/2 server's 'request' is its compatibility API,
      // which a listener of ours would switch on.)
      const lastOn = new WeakMap<net.Socket, http.ServerResponse>();
      const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
        if (req.httpVersionMajor >= 2) return; // HTTP/2 has no Connection header: GOAWAY does it
        const socket = req.socket;
        lastOn.set(socket, res);
        const writeHead = res.writeHead;
        // end() without a head of its own writes it through writeHead too (_implicitHeader).
        res.writeHead = function (this: http.ServerResponse, ...args: unknown[]) {
          if (lastOn.get(socket) === this && !this.headersSent) this.setHeader('Connection', 'close');
          return (writeHead as (...a: unknown[]) => http.ServerResponse).apply(this, args);
        } as typeof res.writeHead;
        watch(socket as HttpSocket, res);
      };
      const listensForRequests = isHttp1 || (isHttp && server.listenerCount('request') > 0);
      if (listensForRequests) server.prependListener('request', onRequest);
      // A server that handles Expect: 100-continue itself gets its request there instead.
      const expects = isHttp1
        ? (['checkContinue', 'checkExpectation'] as const).filter((e) => server.listenerCount(e) > 0)
        : [];
      for (const e of expects) server.prependListener(e, onRequest);

      let isOff = false;
      /** No plain HTTP/1 client left: only what needs the program (or nothing). */
      const checkClientsOff = (): void => {
        if (isOff) return;
        for (const socket of sockets) {
          if (h2(socket) || upgraded(socket)) continue;
          const res = inFlight(socket);
          if (res !== undefined && isEventStream(res)) continue;
          return;
        }
        isOff = true;
        clientsOff();
      };
      /** Asked once per turn of the loop however many connections close in it. */
      let queued = false;
      const checkSoon = (): void => {
        if (queued || isOff) return;
        queued = true;
        setImmediate(() => {
          queued = false;
          checkClientsOff();
        });
      };
      const finish = (): void => {
        clearInterval(tick);
        clearTimeout(grace);
        clearTimeout(force);
        onAccepted = undefined;
        onGone = undefined;
        if (listensForRequests) server.off('request', onRequest);
        for (const e of expects) server.off(e, onRequest);
        closed = true;
        clientsOff();
        resolve();
      };
      // net's close, not http's: http.Server#close() also closes idle keep-alive sockets.
      if (server.listening) {
        closedByDrain = true;
        net.Server.prototype.close.call(server, finish);
      } else if (sockets.size === 0 && sessions.size === 0) queueMicrotask(finish);
      else server.once('close', finish); // the program closed it already
      for (const session of sessions) goAway(session);
      // A response in flight is left as it is: requests may be queued behind it (pipelined,
      // out of sight), which its `close` would drop. The next request, or the idle close, ends
      // its connection.
      for (const socket of sockets) {
        const res = inFlight(socket);
        if (res !== undefined) watch(socket, res);
      }
      onAccepted = (socket) => {
        known.set(socket, { since: performance.now(), busyAt: 0 });
      };
      /** When each handshake still under way began, or the drain's start for an older one. */
      const shaking = new Map<net.Socket, number>();
      if (isHttp1) onGone = checkSoon;
      else clientsOff(); // HTTP/2's GOAWAY tells its clients; a plain net.Server has none

      /**
       * http's own list of the connections between two requests (none under way on them);
       * undefined where it has none. A connection not in it has a request coming in: not idle.
       */
      const betweenRequests = (): Set<net.Socket> | undefined => {
        const list = isHttp1 ? connectionsOf(server)?.idle() : undefined;
        return list && new Set(list.map((parser) => parser.socket));
      };
      const idle = (socket: HttpSocket, now: number, between: Set<net.Socket> | undefined): boolean => {
        if (h2(socket) || upgraded(socket)) return false;
        const d = know(socket);
        if (inFlight(socket) !== undefined) {
          // Pipelined responses come one after another: busy until the last has gone.
          d.busyAt = now;
          return false;
        }
        if (socket.bytesRead > 0) {
          if (between !== undefined && !between.has(socket)) {
            d.busyAt = now; // a request part-way in: terminateTimeout bounds it
            return false;
          }
          return now - Math.max(d.busyAt, d.since, from) >= IDLE_MS;
        }
        return now - Math.max(d.since, from) >= SILENT_GRACE_MS;
      };
      const tick = setInterval(() => {
        // A tick that comes late: this worker did not run (a GC pause, a busy or stalled
        // host, which stalls its clients as well); that time is no client's quiet.
        const now = performance.now();
        const late = now - lastTick - TICK_MS;
        lastTick = now;
        if (late > TICK_MS) {
          from += late;
          for (const d of known.values()) {
            d.since += late;
            if (d.busyAt > 0) d.busyAt += late;
          }
          for (const [raw, since] of shaking) shaking.set(raw, since + late);
        }
        // A handshake gets the grace of a connection that has sent nothing.
        for (const raw of shaking.keys()) if (!handshaking.has(raw)) shaking.delete(raw);
        for (const raw of handshaking) {
          const since = shaking.get(raw) ?? Math.max(from, now);
          shaking.set(raw, since);
          if (now - since >= SILENT_GRACE_MS) raw.destroy();
        }
        if (!isHttp1) return;
        checkClientsOff();
        let some = false;
        const between = betweenRequests();
        for (const socket of sockets) if (idle(socket, now, between)) some = true;
        if (!some) return;
        // Timers run before the loop reads its sockets: after a stall (a GC pause, a slow CPU)
        // a request may be waiting unread on a connection that looks idle. Asked again after
        // this turn's poll phase, which has read it (http emits 'request' as it parses).
        setImmediate(() => {
          const now = performance.now();
          const between = betweenRequests();
          for (const socket of sockets) if (idle(socket, now, between)) socket.destroy();
        });
      }, TICK_MS);
      const grace = setTimeout(
        () => {
          const left = [...sockets].filter(upgraded);
          const events = eventStreams(sockets, sessions);
          if (left.length + events.length > 0) {
            debug(
              'drain: upgradeGrace over: ending %d upgraded, %d event streams',
              left.length,
              events.length,
            );
          }
          for (const socket of left) {
            // A WebSocket hears why (1012: Service Restart), and its client reconnects.
            if (webSockets.has(socket) && socket.writable) socket.write(CLOSE_1012);
            socket.end();
          }
          for (const res of events) endStream(res);
        },
        Math.min(opts.upgradeGrace, opts.terminateTimeout),
      );
      const force = setTimeout(
        () => {
          const shakes = handshaking.size > 0 ? `${handshaking.size} TLS handshake(s)` : '';
          const open = [describeOpen(sockets, sessions, upgraded, h2), shakes].filter(Boolean).join(', ');
          if (open !== '') {
            warn(
              `drain: terminateTimeout (${opts.terminateTimeout} ms) reached with ${open} still open; closing them`,
              'OVERSEER_DRAIN_TIMEOUT',
            );
          }
          // Connections first: an HTTP/2 stream cut short then ends as a lost connection
          // (CANCEL) for its client, where session.destroy() would reset it with NO_ERROR, the
          // code of a whole response (RFC 9113, 8.1); an HTTP/1 client hears a reset either way.
          for (const socket of sockets) socket.destroy();
          for (const session of sessions) session.destroy();
          for (const raw of handshaking) raw.destroy();
        },
        Math.max(
          0,
          opts.terminateTimeout -
            Math.min(FORCE_MARGIN_MS, opts.terminateTimeout / 10) -
            (performance.now() - t0),
        ),
      );
      force.unref();
      grace.unref();
      if (isHttp1) checkClientsOff();
    };
    if (retire.aborted) start();
    else retire.addEventListener('abort', start, { once: true });
  });
  return { clientsOff: off, closed: done };
}

/**
 * Marks the sockets an 'upgrade' handler takes as WebSockets. http answers an Upgrade request
 * itself when the server has no 'upgrade' listener, so the drain has one only while the
 * program has one, ahead of it; upgrades are rare, and no request pays for this.
 */
function watchUpgrades(server: net.Server, webSockets: WeakSet<net.Socket>): void {
  const mark = (req: http.IncomingMessage, socket: net.Socket): void => {
    if (String(req.headers.upgrade).toLowerCase() === 'websocket') webSockets.add(socket);
  };
  const ours = (): boolean => server.listeners('upgrade').includes(mark);
  server.on('newListener', (event: string | symbol, fn: unknown) => {
    if (event === 'upgrade' && fn !== mark && !ours()) server.prependListener('upgrade', mark);
  });
  server.on('removeListener', (event: string | symbol, fn: unknown) => {
    if (event === 'upgrade' && fn !== mark && server.listenerCount('upgrade') === 1 && ours()) {
      server.off('upgrade', mark);
    }
  });
  if (server.listenerCount('upgrade') > 0) server.prependListener('upgrade', mark);
}

/** The event streams open on the server's connections, HTTP/1 and HTTP/2. */
function eventStreams(sockets: Set<HttpSocket>, sessions: Set<Http2Session>): AnyResponse[] {
  const found: AnyResponse[] = [];
  for (const socket of sockets) {
    const res = socket._httpMessage;
    if (res && isEventStream(res)) found.push(res);
  }
  for (const session of sessions) {
    for (const stream of streamsOf(session)) if (isEventStream({ stream })) found.push({ stream });
  }
  return found;
}

/**
 * http's list of a server's connections (Node ≥ 18.2 keeps one for its timeouts), whose idle()
 * are the parsers of those between two requests. Read only during a drain.
 */
function connectionsOf(server: net.Server): { idle(): { socket: net.Socket }[] } | undefined {
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === 'http.server.connections');
  const list = key === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[key];
  return typeof (list as { idle?: unknown } | undefined)?.idle === 'function'
    ? (list as { idle(): { socket: net.Socket }[] })
    : undefined;
}

/**
 * The streams a session has open. Node keeps them in the session's internal state and offers
 * no list; read only when a drain needs them, so that no stream pays for being counted.
 */
function streamsOf(session: Http2Session): ServerHttp2Stream[] {
  const key = Object.getOwnPropertySymbols(session).find((s) => s.description === 'state');
  const state = key === undefined ? undefined : (session as unknown as Record<symbol, unknown>)[key];
  // A Map of node's own primordials (SafeMap), which is no `instanceof Map` here.
  const streams = (state as { streams?: { values?: unknown } } | undefined)?.streams;
  if (typeof streams?.values !== 'function') return [];
  return [...(streams as Map<number, ServerHttp2Stream>).values()];
}

/** A response that streams events for as long as it is open (SSE), its head already sent. */
function isEventStream(res: AnyResponse): boolean {
  if ('stream' in res) {
    const sent = res.stream.sentHeaders as Record<string, unknown> | undefined;
    return !res.stream.closed && String(sent?.['content-type'] ?? '').startsWith('text/event-stream');
  }
  if (!res.headersSent || res.writableEnded) return false;
  // writeHead(status, headers) writes the head without keeping the headers for getHeader().
  const type = res.getHeader('content-type');
  if (type !== undefined) return String(type).startsWith('text/event-stream');
  const head = (res as { _header?: unknown })._header;
  return typeof head === 'string' && /^content-type:\s*text\/event-stream/im.test(head);
}

/** Ends an event stream cleanly, so that EventSource reconnects (to a new worker). */
function endStream(res: AnyResponse): void {
  if ('stream' in res) res.stream.end();
  else res.end();
}

function describeOpen(
  sockets: Set<HttpSocket>,
  sessions: Set<Http2Session>,
  upgraded: (socket: HttpSocket) => boolean,
  h2: (socket: HttpSocket) => boolean,
): string {
  const events = eventStreams(sockets, sessions).length;
  let requests = 0;
  let upgrades = 0;
  let idle = 0;
  for (const socket of sockets) {
    if (h2(socket)) continue;
    const res = socket._httpMessage;
    if (upgraded(socket)) upgrades++;
    else if (res && !isEventStream(res)) requests++;
    else if (!res) idle++;
  }
  const parts = [
    requests > 0 ? `${requests} request(s) in flight` : '',
    upgrades > 0 ? `${upgrades} upgraded connection(s) (WebSocket)` : '',
    events > 0 ? `${events} event stream(s)` : '',
    sessions.size > 0 ? `${sessions.size} HTTP/2 session(s)` : '',
    idle > 0 ? `${idle} other connection(s)` : '',
  ];
  return parts.filter(Boolean).join(', ');
}
