// GET /overseer/logs?n=100&follow=1: the workers' output the master keeps (`overseer run`),
// as newline-delimited JSON: the last `n` lines, then (with follow) every new one. A reader
// that falls behind is told how many lines it missed ({"missed": N}); nothing waits for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogBuffer } from '../master/log-buffer.js';
import { ndjsonStream } from './ndjson-stream.js';

/** The most lines one request may ask for from the buffer. */
const MAX_LINES = 100_000;

export function streamLogs(logs: LogBuffer, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const asked = Number(url.searchParams.get('n') ?? '100');
  const n = Number.isInteger(asked) && asked >= 0 ? Math.min(asked, MAX_LINES) : 100;
  const follow = ['1', 'true'].includes(url.searchParams.get('follow') ?? '');
  let stop = (): void => {};
  const stream = ndjsonStream(req, res, {
    missed: (count) => ({ missed: count }),
    onClose: () => stop(),
  });
  // The backlog goes out at once: the buffer bounds it (8 MiB at most).
  const backlog = logs.last(n);
  if (!follow) {
    res.end(backlog.map((l) => `${JSON.stringify(l)}\n`).join(''));
    return;
  }
  for (const line of backlog) res.write(`${JSON.stringify(line)}\n`);
  stop = logs.follow((line) => stream.push(line));
}
