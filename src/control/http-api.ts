// The HTTP API served on the control socket (platform-agnostic). Small, bounded and
// strict: limited headers, bodies, time and connections, JSON for every answer, 405 with
// Allow for a wrong method, and config.handler for anything outside /overseer/*.
import type { EventEmitter } from 'node:events';
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';
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
  /** The workers' output, when the master keeps it (`overseer run`). */
  readonly logs?: LogBuffer | undefined;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export function createApiServer(target: ApiTarget, handler?: RequestListener): http.Server {
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
          const code = (err as { code?: string }).code;
          json(res, code === 'ERR_OVERSEER_NO_FETCHER' ? 409 : 500, { ok: false, ...errorBody(err) });
        }
      },
    },
    '/overseer/reexec': {
      POST: async (_req, res) => {
        if (target.reexec === undefined) {
          json(res, 409, {
            ok: false,
            error: 'this master cannot be replaced (an overseer/cluster primary is the program itself)',
            code: 'ERR_OVERSEER_UNSUPPORTED',
          });
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
          json(res, 409, {
            ok: false,
            error: "this master keeps no logs (its workers' output is the master's own: see `overseer run`)",
            code: 'ERR_OVERSEER_NO_LOGS',
          });
          return;
        }
        streamLogs(target.logs, new URL(req.url ?? '/', 'http://overseer'), req, res);
      },
    },
  };

  const server = http.createServer(
    {
      maxHeaderSize: API_LIMITS.maxHeaderSize,
      headersTimeout: API_LIMITS.headersTimeout,
      requestTimeout: API_LIMITS.requestTimeout,
      keepAliveTimeout: API_LIMITS.keepAliveTimeout,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      const url = new URL(req.url ?? '/', 'http://overseer');
      const isOurs = url.pathname === '/overseer' || url.pathname.startsWith('/overseer/');
      if (!isOurs && handler) {
        runHandler(handler, req, res);
        return;
      }
      const methods = routes[url.pathname];
      if (!isOurs || methods === undefined) {
        json(res, 404, { ok: false, error: `no route ${url.pathname}`, code: 'ERR_OVERSEER_NOT_FOUND' });
        return;
      }
      const route = methods[req.method ?? ''];
      if (route === undefined) {
        res.setHeader('Allow', Object.keys(methods).join(', '));
        json(res, 405, {
          ok: false,
          error: `${req.method} is not allowed on ${url.pathname}`,
          code: 'ERR_OVERSEER_METHOD',
        });
        return;
      }
      void withBodyLimit(req, res).then(async (ok) => {
        if (!ok) return;
        try {
          await route(req, res);
        } catch (err) {
          debug('api: %s %s failed: %s', req.method, url.pathname, errorMessage(err));
          if (!res.headersSent) json(res, 500, { ok: false, ...errorBody(err) });
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

const BUSY_BODY = `${JSON.stringify({
  ok: false,
  error: `the control socket is busy (${API_LIMITS.maxConnections} connections); try again`,
  code: 'ERR_OVERSEER_BUSY',
})}\n`;
const BUSY_ANSWER =
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n' +
  `Content-Length: ${Buffer.byteLength(BUSY_BODY)}\r\nConnection: close\r\n\r\n${BUSY_BODY}`;

/**
 * Past `limit` open connections a client gets a 503 with Retry-After, written without
 * reading its request, so a script can tell "busy" from "dead". (net's own maxConnections
 * closes such sockets before JavaScript sees them, with no answer at all.)
 */
function answerBusyPastLimit(server: http.Server, limit: number): void {
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
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Our routes take no body; a large one is refused with 413 instead of being buffered. */
function withBodyLimit(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > API_LIMITS.maxBodyBytes) {
    res.setHeader('Connection', 'close');
    json(res, 413, { ok: false, error: 'request body too large', code: 'ERR_OVERSEER_BODY_TOO_LARGE' });
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > API_LIMITS.maxBodyBytes && !res.headersSent) {
        res.setHeader('Connection', 'close');
        json(res, 413, { ok: false, error: 'request body too large', code: 'ERR_OVERSEER_BODY_TOO_LARGE' });
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
    if (!res.headersSent)
      json(res, 500, { ok: false, error: 'handler failed', code: 'ERR_OVERSEER_HANDLER' });
    else res.destroy();
  };
  try {
    const result: unknown = handler(req, res);
    if (result instanceof Promise) result.catch(fail);
  } catch (err) {
    fail(err);
  }
}
