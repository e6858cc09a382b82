// Client helpers for the control socket, shared by triggerUpdate() in workers and the CLI.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { codedError } from '../errors.js';
import { platform } from '../os/index.js';

export interface IpcResponse {
  status: number;
  body: unknown;
}

/**
 * http.request's asynchronous createConnection: return nothing and hand the socket to the
 * callback later (Node supports this; @types/node only models the synchronous form).
 */
function connector(ipcPath: string): http.RequestOptions['createConnection'] {
  const connect = (_options: unknown, done: (err: Error | null, socket?: Duplex) => void): undefined => {
    platform
      .controlSocket()
      .then((ipc) => ipc.dialIPC(ipcPath))
      .then(
        (socket) => done(null, socket),
        (err: Error) => done(err),
      );
    return undefined;
  };
  return connect as unknown as http.RequestOptions['createConnection'];
}

/**
 * One request over the control socket at `ipcPath`; the JSON body is parsed. With
 * `timeoutMs`, the whole answer must come within it (the CLI's --timeout): http.request's own
 * `timeout` is never armed with a createConnection of this kind (no agent), and a master that
 * accepts and never answers (a stopped one) would hold the caller for ever. Without, the
 * master's own bounds (readyTimeout…) end the request: a worker's restart() or reexec() waits
 * as long as the master works on it.
 */
export function ipcRequest(
  ipcPath: string,
  method: string,
  path: string,
  timeoutMs?: number,
): Promise<IpcResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { method, path, host: 'overseer', createConnection: connector(ipcPath) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', fail);
      },
    );
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => req.destroy(codedError(Error, 'ETIMEDOUT', `no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
    function fail(err: Error): void {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end();
  });
}

/**
 * Follows a newline-delimited JSON route (/overseer/events, /overseer/logs), calling
 * `onLine` per line, until the stream ends or `signal` aborts.
 */
export function ipcLines(
  ipcPath: string,
  route: string,
  onLine: (line: Record<string, unknown>) => void,
  signal?: AbortSignal,
  onOpen?: () => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method: 'GET',
        path: route,
        host: 'overseer',
        createConnection: connector(ipcPath),
        signal,
      },
      (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            // The master's JSON error, with its code: `{ "error": "…", "code": "ERR_OVERSEER_NO_LOGS" }`.
            let answer: { error?: unknown; code?: unknown } = {};
            try {
              answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof answer;
            } catch {}
            const err = new Error(typeof answer.error === 'string' ? answer.error : `HTTP ${res.statusCode}`);
            reject(typeof answer.code === 'string' ? Object.assign(err, { code: answer.code }) : err);
          });
          return;
        }
        onOpen?.();
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim() === '') continue;
            try {
              onLine(JSON.parse(line) as Record<string, unknown>);
            } catch {}
          }
        });
        res.on('end', resolve);
        res.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
      },
    );
    req.on('error', (err) => (signal?.aborted ? resolve() : reject(err)));
    req.end();
  });
}
