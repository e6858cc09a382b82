// The HTTP API served on the control socket (platform-agnostic). Small, bounded and
// strict: limited headers, bodies, time and connections, JSON for every answer, 405 with
// Allow for a wrong method, and config.handler for anything outside /overseer/*.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import type { MasterEvents, ReexecEvent, RestartResult } from '../master/events.js';
import type { LogBuffer } from '../master/log-buffer.js';
import { gateConnections } from './connection-gate.js';
import { errorBody, streamEvents } from './event-stream.js';
import { streamLogs } from './log-stream.js';

export const API_LIMITS = {
  maxHeaderSize: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  headersTimeout: 5_000,
  requestTimeout: 10_000,
  keepAliveTimeout: 5_000,
  maxConnections: 64,
  /**
   * Requests one connection may have waiting for their answers (pipelined, or behind a stream)
   * before it is closed. Node stops reading a connection only once its answers pass the
   * socket's buffer, and parses all of what it has read by then: 64 KiB of requests, thousands
   * of answers held for a client that reads none.
   */
  maxWaiting: 16,
} as const;

/** What the API needs from the master. */
export interface ApiTarget {
  /** The master's EventEmitter, whose lifecycle events /overseer/events streams. */
  readonly events: EventEmitter<MasterEvents>;
  status(): object;
  restart(reason: string): Promise<RestartResult>;
  triggerUpdate(): Promise<object>;
  /** A master handoff; absent where the master cannot be replaced (an overseer/cluster primary). */
  reexec?(): Promise<ReexecEvent>;
  metrics(): string;
  /** Events an events reader lost because it did not keep up. */
  countDroppedEvents(n: number): void;
  /** The master's name, which each event line carries. */
  name?(): string;
  /** The workers' output, when the master keeps it (`overseer run`). */
  readonly logs?: LogBuffer | undefined;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * The API's server. node:http loads here, not with this module: a master loads it when a client
 * first connects (control/lazy-api.ts), and one no client asks never does (issue #22).
 */
export async function createApiServer(target: ApiTarget, handler?: RequestListener): Promise<Server> {
  const { createServer } = await import('node:http');
  const routes: Record<string, Partial<Record<string, Route>>> = {
    '/overseer/status': { GET: (_req, res) => json(res, 200, target.status()) },
    '/overseer/metrics': {
      GET: (_req, res) => {
        const body = target.metrics();
        res.writeHead(200, {
          'Content-Type': 'text/plain; version=0.0.4',
          'Content-Length': Buffer.byteLength(body),
        });
        res.end(body);
      },
    },
    '/overseer/restart': {
      POST: async (_req, res) => {
        const r = await target.restart('control socket');
        json(res, r.ok ? 200 : 500, {
          ok: r.ok,
          durationMs: r.durationMs,
          replaced: r.replaced,
          ...(r.error ? errorBody(r.error) : {}),
        });
      },
    },
    '/overseer/trigger-update': {
      POST: async (_req, res) => {
        try {
          json(res, 200, { ok: true, ...(await target.triggerUpdate()) });
        } catch (err) {
          answerError(res, errorCode(err) === 'ERR_OVERSEER_NO_FETCHER' ? 409 : 500, err);
        }
      },
    },
    '/overseer/reexec': {
      POST: async (_req, res) => {
        if (target.reexec === undefined) {
          answerError(
            res,
            409,
            codedError(
              Error,
              'ERR_OVERSEER_UNSUPPORTED',
              'this master cannot be replaced (an overseer/cluster primary is the program itself)',
            ),
          );
          return;
        }
        const r = await target.reexec();
        json(res, r.ok ? 200 : 500, {
          ok: r.ok,
          durationMs: r.durationMs,
          ...(r.pid === undefined ? {} : { pid: r.pid }),
          ...(r.error ? errorBody(r.error) : {}),
        });
      },
    },
    '/overseer/events': { GET: (req, res) => streamEvents(target.events, target, req, res) },
    '/overseer/logs': {
      GET: (req, res) => {
        if (target.logs === undefined) {
          answerError(
            res,
            409,
            codedError(
              Error,
              'ERR_OVERSEER_NO_LOGS',
              "this master keeps no logs (its workers' output is the master's own: see `overseer run`)",
            ),
          );
          return;
        }
        streamLogs(target.logs, new URL(req.url ?? '/', 'http://overseer'), req, res);
      },
    },
  };

  const server = createServer(
    {
      maxHeaderSize: API_LIMITS.maxHeaderSize,
      headersTimeout: API_LIMITS.headersTimeout,
      requestTimeout: API_LIMITS.requestTimeout,
      keepAliveTimeout: API_LIMITS.keepAliveTimeout,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      if (!admit(req, res)) return;
      const url = new URL(req.url ?? '/', 'http://overseer');
      const isOurs = url.pathname === '/overseer' || url.pathname.startsWith('/overseer/');
      if (!isOurs && handler) {
        runHandler(handler, req, res);
        return;
      }
      const methods = routes[url.pathname];
      if (!isOurs || methods === undefined) {
        answerError(res, 404, codedError(Error, 'ERR_OVERSEER_NOT_FOUND', `no route ${url.pathname}`));
        return;
      }
      const route = methods[req.method ?? ''];
      if (route === undefined) {
        res.setHeader('Allow', Object.keys(methods).join(', '));
        answerError(
          res,
          405,
          codedError(Error, 'ERR_OVERSEER_METHOD', `${req.method} is not allowed on ${url.pathname}`),
        );
        return;
      }
      void withBodyLimit(req, res).then(async (ok) => {
        if (!ok) return;
        try {
          await route(req, res);
        } catch (err) {
          debug('api: %s %s failed: %s', req.method, url.pathname, errorMessage(err));
          if (!res.headersSent) answerError(res, 500, err);
          else res.destroy();
        }
      });
    },
  );
  answerBusyPastLimit(server, API_LIMITS.maxConnections);
  // Garbage must never reach the master's 'error' handlers: answer 400 and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    debug('api: client error %s', err.code ?? err.message);
    if (socket.writable && !socket.destroyed) {
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    // Not at once: closing with unread input makes the kernel send a reset, which can
    // discard the answer on its way to the client.
    setTimeout(() => socket.destroy(), 1_000).unref();
  });
  return server;
}

/** Requests waiting for their answers, per connection. */
const waiting = new WeakMap<Socket, number>();

/** Counts `req` against its connection's bound; past the bound the connection is closed. */
function admit(req: IncomingMessage, res: ServerResponse): boolean {
  const socket = req.socket;
  if (socket.destroyed) return false; // closed below, with more of its requests parsed after
  const n = (waiting.get(socket) ?? 0) + 1;
  if (n > API_LIMITS.maxWaiting) {
    debug('api: a connection has %d requests waiting for their answers; closing it', n);
    socket.destroy();
    return false;
  }
  waiting.set(socket, n);
  res.once('close', () => waiting.set(socket, (waiting.get(socket) ?? 1) - 1));
  return true;
}

const BUSY_BODY = errorJson(
  codedError(
    Error,
    'ERR_OVERSEER_BUSY',
    `the control socket is busy (${API_LIMITS.maxConnections} connections); try again`,
  ),
);
const BUSY_ANSWER =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n' +
  `Content-Length: ${Buffer.byteLength(BUSY_BODY)}\r\nConnection: close\r\n\r\n${BUSY_BODY}`;

/**
 * Past `limit` open connections a client gets a 503 with Retry-After, written without
 * reading its request, so a script can tell "busy" from "dead". (net's own maxConnections
 * closes such sockets before JavaScript sees them, with no answer at all.)
 */
function answerBusyPastLimit(server: Server, limit: number): void {
  let open = 0;
  gateConnections(server, (socket) => {
    if (open >= limit) {
      socket.on('error', () => {});
      socket.end(BUSY_ANSWER);
      // Its request is read and thrown away: closing with unread input would reset the
      // connection and could discard the answer on its way.
      socket.resume();
      setTimeout(() => socket.destroy(), 1_000).unref();
      return false;
    }
    open++;
    socket.once('close', () => open--);
    return true;
  });
}

function json(res: ServerResponse, status: number, body: object): void {
  send(res, status, `${JSON.stringify(body)}\n`);
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** An error as the API answers it: `{ ok: false, error, code }`, a line of JSON. */
function errorJson(err: unknown): string {
  return `${JSON.stringify({ ok: false, ...errorBody(err) })}\n`;
}

/** The one way the API answers an error: `status`, and the error's message and code as JSON. */
function answerError(res: ServerResponse, status: number, err: unknown): void {
  send(res, status, errorJson(err));
}

function tooLarge(): Error {
  return codedError(Error, 'ERR_OVERSEER_BODY_TOO_LARGE', 'request body too large');
}

/** Our routes take no body; a large one is refused with 413 instead of being buffered. */
function withBodyLimit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > API_LIMITS.maxBodyBytes) {
    res.setHeader('Connection', 'close');
    answerError(res, 413, tooLarge());
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > API_LIMITS.maxBodyBytes && !res.headersSent) {
        res.setHeader('Connection', 'close');
        answerError(res, 413, tooLarge());
        req.destroy();
        resolve(false);
      }
    });
    req.on('end', () => resolve(true));
    req.on('error', () => resolve(false));
  });
}

function runHandler(handler: RequestListener, req: IncomingMessage, res: ServerResponse): void {
  const fail = (err: unknown): void => {
    debug('api: config.handler failed: %s', errorMessage(err));
    if (!res.headersSent) answerError(res, 500, codedError(Error, 'ERR_OVERSEER_HANDLER', 'handler failed'));
    else res.destroy();
  };
  try {
    const result: unknown = handler(req, res);
    if (result instanceof Promise) result.catch(fail);
  } catch (err) {
    fail(err);
  }
}
