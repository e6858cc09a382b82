// The request-aware drain of a server a worker listens with. Measured here: relying on
// server.close() drops one request per keep-alive connection, because Node reaps idle
// sockets at once and resets accepted-but-silent ones. This drain loses none:
//   1. stop accepting (the listener only, without http's reaping of idle sockets; a
//      server.close() of the app's own during the drain is made as gentle);
//   2. HTTP/1: answer in-flight and further requests with `Connection: close`, from a
//      request listener registered before the app's, so the header is set before it is sent;
//      close a connection only once it is idle, has served a request, and has stayed idle
//      for IDLE_MS (a keep-alive client may have a request on the wire); give a connection
//      that has sent nothing SILENT_GRACE_MS to send its request. Quiet time counts from the
//      drain's start at the earliest, and time this worker did not run (a stalled host: its
//      clients stalled too) does not count;
//   3. HTTP/2: GOAWAY (session.close()): streams in flight finish, new ones go elsewhere;
//   4. upgraded connections (WebSocket) and event streams (SSE) are the program's, which
//      hears gracefulShutdown: at upgradeGrace what is left of them is ended;
//   5. at terminateTimeout (a little before the master's SIGKILL) whatever is still open is
//      closed, and a warning names it.
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

export interface DrainOptions {
  /** Aborts when the drain must begin. */
  signal: AbortSignal;
  terminateTimeout: number;
  /** ms the program gets to close upgraded connections and event streams itself. */
  upgradeGrace: number;
}

interface Connection {
  acceptedAt: number;
  idleSince: number;
  served: number;
  inflight: Set<http.ServerResponse>;
  /** Taken over by an 'upgrade' handler (a WebSocket): no longer HTTP. */
  upgraded: boolean;
  /** An HTTP/2 connection: its session drains it. */
  h2: boolean;
}

type AnyResponse = http.ServerResponse | { stream: ServerHttp2Stream };

/** Tracks a server's connections from now on, and drains them when `signal` aborts. */
export function installDrain(server: net.Server, opts: DrainOptions): Promise<void> {
  const { signal } = opts;
  const isHttp2 = typeof (server as Partial<Http2Server>).updateSettings === 'function';
  const isHttp1 = typeof (server as Partial<http.Server>).closeIdleConnections === 'function';
  // TLS servers hand requests the TLS socket, not the raw one. (Asked without loading tls,
  // which a plain http worker never needs.)
  const isTls = typeof (server as Partial<tls.Server>).setSecureContext === 'function';
  const isHttp = isHttp1 || isHttp2;
  const conns = new Map<net.Socket, Connection>();
  const sessions = new Set<Http2Session>();
  /** Every response still open, HTTP/1 and HTTP/2: at upgradeGrace the event streams end. */
  const responses = new Set<AnyResponse>();
  let draining = false;

  const track = (socket: net.Socket): Connection => {
    let c = conns.get(socket);
    if (!c) {
      const now = performance.now();
      const h2 = isHttp2 && (!isTls || (socket as tls.TLSSocket).alpnProtocol === 'h2');
      c = { acceptedAt: now, idleSince: now, served: 0, inflight: new Set(), upgraded: false, h2 };
      conns.set(socket, c);
      socket.once('close', () => conns.delete(socket));
    }
    return c;
  };
  server.on(isTls ? 'secureConnection' : 'connection', track);

  if (isHttp2) {
    server.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      if (draining) goAway(session);
    });
  }

  if (isHttp) {
    server.prependListener('request', (req: http.IncomingMessage, res: AnyResponse) => {
      responses.add(res);
      onClose(res, () => responses.delete(res));
      if (req.httpVersionMajor >= 2) return; // HTTP/2 has no Connection header: GOAWAY does it
      const response = res as http.ServerResponse;
      const c = track(req.socket);
      c.inflight.add(response);
      if (draining) response.setHeader('Connection', 'close');
      response.once('close', () => {
        c.inflight.delete(response);
        c.served++;
        c.idleSince = performance.now();
      });
    });
    // An upgraded socket is the 'upgrade' handler's. Watched from emit, because adding an
    // 'upgrade' listener would change how http treats Upgrade requests.
    const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
    server.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      if (event === 'upgrade') track(args[1] as net.Socket).upgraded = true;
      return emit(event, ...args);
    };
  }

  if (isHttp1) {
    // Node's server.close() reaps idle keep-alive sockets at once, and a request may be on
    // the wire on any of them. During the drain, the drain decides when a socket is idle.
    const h1 = server as http.Server;
    const closeIdle = h1.closeIdleConnections.bind(h1);
    h1.closeIdleConnections = () => {
      if (!signal.aborted) closeIdle();
    };
  }

  return new Promise<void>((resolve) => {
    const start = (): void => {
      draining = true;
      // The monotonic clock: a step of the wall clock is no time a client was quiet.
      const t0 = performance.now();
      /** Quiet time counts from here at the earliest: moved on by the time this worker stalled. */
      let from = t0;
      let lastTick = t0;
      debug('drain: %d connections, %d HTTP/2 sessions open', conns.size, sessions.size);
      const done = (): void => {
        clearInterval(tick);
        clearTimeout(grace);
        clearTimeout(force);
        resolve();
      };
      // net's close, not http's: http.Server#close() also closes idle keep-alive sockets.
      if (server.listening) net.Server.prototype.close.call(server, done);
      else if (conns.size === 0 && sessions.size === 0) queueMicrotask(done);
      else server.once('close', done); // the program closed it already
      for (const session of sessions) goAway(session);
      for (const c of conns.values()) {
        for (const res of c.inflight) if (!res.headersSent) res.setHeader('Connection', 'close');
      }
      const idle = (c: Connection, now: number): boolean => {
        if (c.inflight.size > 0 || c.upgraded || c.h2) return false;
        if (c.served > 0) return now - Math.max(c.idleSince, from) >= IDLE_MS;
        return now - Math.max(c.acceptedAt, from) >= SILENT_GRACE_MS;
      };
      const tick = setInterval(() => {
        // A tick that comes late: this worker did not run (a GC pause, a busy or stalled
        // host, which stalls its clients as well); that time is no client's quiet.
        const now = performance.now();
        const late = now - lastTick - TICK_MS;
        lastTick = now;
        if (late > TICK_MS) {
          from += late;
          for (const c of conns.values()) {
            c.idleSince += late;
            c.acceptedAt += late;
          }
        }
        if (!isHttp1) return;
        if (![...conns.values()].some((c) => idle(c, now))) return;
        // Timers run before the loop reads its sockets: after a stall (a GC pause, a slow CPU)
        // a request may be waiting unread on a connection that looks idle. Asked again after
        // this turn's poll phase, which has read it (http emits 'request' as it parses).
        setImmediate(() => {
          const now = performance.now();
          for (const [socket, c] of conns) if (idle(c, now)) socket.destroy();
        });
      }, TICK_MS);
      const grace = setTimeout(
        () => {
          const upgraded = [...conns].filter(([, c]) => c.upgraded);
          const events = [...responses].filter(isEventStream);
          if (upgraded.length + events.length > 0) {
            debug(
              'drain: upgradeGrace over: ending %d upgraded, %d event streams',
              upgraded.length,
              events.length,
            );
          }
          for (const [socket] of upgraded) socket.end();
          for (const res of events) endStream(res);
        },
        Math.min(opts.upgradeGrace, opts.terminateTimeout),
      );
      const force = setTimeout(
        () => {
          const open = describeOpen(conns, sessions, responses);
          if (open !== '') {
            warn(
              `drain: terminateTimeout (${opts.terminateTimeout} ms) reached with ${open} still open; closing them`,
              'OVERSEER_DRAIN_TIMEOUT',
            );
          }
          for (const session of sessions) session.destroy();
          for (const socket of conns.keys()) socket.destroy();
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
    };
    if (signal.aborted) start();
    else signal.addEventListener('abort', start, { once: true });
  });
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

function onClose(res: AnyResponse, fn: () => void): void {
  const emitter = 'stream' in res ? res.stream : res;
  emitter.once('close', fn);
}

/** Ends an event stream cleanly, so that EventSource reconnects (to a new worker). */
function endStream(res: AnyResponse): void {
  if ('stream' in res) res.stream.end();
  else res.end();
}

function describeOpen(
  conns: Map<net.Socket, Connection>,
  sessions: Set<Http2Session>,
  responses: Set<AnyResponse>,
): string {
  const events = [...responses].filter(isEventStream).length;
  let requests = 0;
  let upgraded = 0;
  let idle = 0;
  for (const c of conns.values()) {
    if (c.h2) continue;
    if (c.upgraded) upgraded++;
    else if (c.inflight.size > 0) requests += c.inflight.size;
    else idle++;
  }
  const parts = [
    requests > 0 ? `${requests} request(s) in flight` : '',
    upgraded > 0 ? `${upgraded} upgraded connection(s) (WebSocket)` : '',
    events > 0 ? `${events} event stream(s)` : '',
    sessions.size > 0 ? `${sessions.size} HTTP/2 session(s)` : '',
    idle > 0 ? `${idle} other connection(s)` : '',
  ];
  return parts.filter(Boolean).join(', ');
}
