// HTTP/2's graceful shutdown, as RFC 9113 §6.8 describes it: a first GOAWAY with the largest
// stream id and NO_ERROR (the notice: "open no more streams here"), a round trip (a PING and its
// ack), then the GOAWAY that names the last stream taken (session.close(): the streams in flight
// finish). Why two: a single GOAWAY with the last stream id races the streams the client has
// already sent, which it refuses (REFUSED_STREAM), and a client that does not retry (Node's own
// http2 client) loses them: 8 to 16 streams in 3 restarts under load (test/http2-goaway.test.ts).
// After the round trip, every stream the client sent before it read the notice has arrived.
// Before the notice, a quiet round trip (see awaitQuiet): without it, Node's client still lost 8
// streams in one run of 3, streams it opened in the turn it read the notice and never sent.
//
// Why the notice is written on the socket, not by session.goaway(): nghttp2 ignores every new
// stream once it has sent any GOAWAY but its shutdown notice (session_allow_incoming_new_stream
// checks NGHTTP2_GOAWAY_SENT), and Node has no binding for nghttp2_submit_shutdown_notice. The
// bytes cannot land inside one of nghttp2's frames: Node hands the socket whole frames, each
// batch in one write (Http2Session::SendPendingData), and libuv keeps a stream's writes in order.
//
// Not over TLS: Node's TLS socket takes one write at a time, and the session writes to it without
// asking; a write of ours aborts the process (`Assertion failed: !current_write_`, TLSWrap::DoWrite)
// as soon as the session writes before ours is done, on reading the next frame for one. There the
// single GOAWAY stays: a crossing stream is refused, unprocessed, which RFC 9113 §8.7 makes safe
// to retry.
import type { Http2Session } from 'node:http2';
import net from 'node:net';
import { debug } from '../log.js';

/** A client gone or stalled must not keep the session past this: the last GOAWAY goes anyway. */
const PING_TIMEOUT_MS = 2_000;
/** How long to look for a quiet round trip before the notice (see awaitQuiet). */
const QUIET_MS = 1_000;
/** Turns a new session may take to hand the socket its preface (SETTINGS), which must go first. */
const PREFACE_TURNS = 10;

/** GOAWAY (type 7) on stream 0, last stream id 2^31-1, NO_ERROR: RFC 9113 §6.8's notice. */
const SHUTDOWN_NOTICE = Buffer.from([0, 0, 8, 7, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

const shuttingDown = new WeakSet<Http2Session>();

/**
 * Shuts a server session down: the streams it has taken, and those that cross the first GOAWAY
 * on the wire, finish; the client opens its next session elsewhere.
 */
export function goAway(session: Http2Session): void {
  if (session.closed || session.destroyed || shuttingDown.has(session)) return;
  shuttingDown.add(session);
  notice(session, 0);
}

function notice(session: Http2Session, turn: number): void {
  if (session.closed || session.destroyed) return;
  const socket = plainSocket(session);
  if (socket === undefined) {
    session.close();
    return;
  }
  if (bytesWritten(socket) === 0) {
    // A session this new has not handed over its SETTINGS yet (nghttp2's output goes out from
    // an immediate), and the notice must not come first.
    if (turn < PREFACE_TURNS) setImmediate(notice, session, turn + 1);
    else session.close();
    return;
  }
  awaitQuiet(session, socket, performance.now() + QUIET_MS, 1);
}

/**
 * Waits for a round trip in which this side wrote nothing: the client has then read all it was
 * sent, and reads the notice first in its next read. Node's client fails the streams it opened
 * but has not sent yet when it reads a GOAWAY (its HEADERS are never sent), and it opens them as
 * the answers before the GOAWAY in the same read come in; with nothing unread ahead of it, the
 * notice reaches it before any such answer.
 */
function awaitQuiet(session: Http2Session, socket: net.Socket, until: number, round: number): void {
  let mark = -1;
  roundTrip(session, until - performance.now(), (acked) => {
    if (session.closed || session.destroyed) return;
    const quiet = acked && bytesWritten(socket) === mark;
    if (acked && !quiet && performance.now() < until) awaitQuiet(session, socket, until, round + 1);
    else {
      debug('h2: GOAWAY notice after %d round trip(s), %s', round, quiet ? 'quiet' : 'not quiet');
      sendNotice(session, socket);
    }
  });
  // What the socket has been handed once this PING is out (nghttp2 writes from an immediate,
  // which runs before this one).
  setImmediate(() => {
    mark = bytesWritten(socket);
  });
}

/** The notice, a round trip, then the GOAWAY with the last stream id. */
function sendNotice(session: Http2Session, socket: net.Socket): void {
  if (socket.destroyed || !socket.writable) {
    session.close();
    return;
  }
  socket.write(SHUTDOWN_NOTICE);
  roundTrip(session, PING_TIMEOUT_MS, (acked) => {
    if (session.closed || session.destroyed) return; // closed already, on the client's own GOAWAY
    if (!acked) debug('h2: no PING ack after the GOAWAY notice: last GOAWAY anyway');
    session.close();
  });
}

/** A PING; `then(true)` on its ack, `then(false)` if none comes within `ms` (or none can go). */
function roundTrip(session: Http2Session, ms: number, then: (acked: boolean) => void): void {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (acked: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    session.off('close', gone);
    then(acked);
  };
  const gone = (): void => finish(false);
  // false: too many PINGs outstanding (the callback then never runs).
  const sent = session.ping((err) => finish(err === null));
  if (sent === false || ms <= 0) {
    finish(false);
    return;
  }
  timer = setTimeout(gone, ms);
  timer.unref();
  session.once('close', gone);
}

/**
 * The session's TCP (or pipe) socket, where a write lands between nghttp2's frames; undefined
 * over TLS, over a JS stream, or once the socket is gone.
 */
function plainSocket(session: Http2Session): net.Socket | undefined {
  if (session.encrypted) return undefined;
  // session.socket is a proxy that refuses writes; the socket itself sits behind Node's
  // `kSocket` symbol.
  const key = Object.getOwnPropertySymbols(session).find((s) => s.description === 'socket');
  const socket = key === undefined ? undefined : (session as unknown as Record<symbol, unknown>)[key];
  if (!(socket instanceof net.Socket) || socket.destroyed || !socket.writable) return undefined;
  const handle = (socket as unknown as { _handle?: { constructor?: { name?: string } } })._handle;
  const kind = handle?.constructor?.name;
  return kind === 'TCP' || kind === 'Pipe' ? socket : undefined;
}

/** Bytes handed to the socket's handle by anyone (the session's writes included). */
function bytesWritten(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { bytesWritten?: number } })._handle;
  return handle?.bytesWritten ?? 0;
}
