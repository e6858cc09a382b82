// GET /overseer/logs?n=100&follow=1: the workers' output the master keeps (`overseer run`),
// as newline-delimited JSON: the last `n` lines, then (with follow) every new one. A reader
// holds only its place in the buffer and takes lines as its socket does; lines that left the
// buffer before it got them it is told of ({"missed": N}); nothing waits for it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LogBuffer } from '../master/log-buffer.js';
import { ndjsonPull } from './ndjson-stream.js';

/** The most lines one request may ask for from the buffer. */
const MAX_LINES = 100_000;

export function streamLogs(logs: LogBuffer, url: URL, req: IncomingMessage, res: ServerResponse): void {
  const asked = Number(url.searchParams.get('n') ?? '100');
  const n = Number.isInteger(asked) && asked >= 0 ? Math.min(asked, MAX_LINES) : 100;
  const follow = ['1', 'true'].includes(url.searchParams.get('follow') ?? '');
  let next = Math.max(logs.firstSeq, logs.nextSeq - n);
  // Without follow, the lines held at the request, and no later ones.
  const until = follow ? Number.POSITIVE_INFINITY : logs.nextSeq;
  ndjsonPull(req, res, {
    read: (maxBytes) => {
      const got = logs.read(next, maxBytes, until);
      next = got.next;
      return got.missed > 0 ? `${JSON.stringify({ missed: got.missed })}\n${got.json}` : got.json;
    },
    done: () => !follow && next >= until,
    watch: (wake) => (follow ? logs.watch(wake) : () => {}),
  });
}
