// GET /overseer/events: the master's lifecycle events as newline-delimited JSON.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCode, errorMessage } from '../errors.js';
import { LIFECYCLE_EVENTS, type MasterEvents } from '../master/events.js';

/** Where the stream reports what its readers lost. */
export interface DropCounter {
  countDroppedEvents(n: number): void;
}

/**
 * Memory per reader is bounded by its socket's own buffer: once a write does not fit
 * (write() says false), events are dropped and counted until the socket drains, and then a
 * `dropped` line tells the reader how many it missed. Counting bytes is not enough: a slow
 * reader of many small events holds a write request per event, which costs more than the
 * event itself.
 */
export function streamEvents(
  events: EventEmitter<MasterEvents>,
  drops: DropCounter,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
  res.flushHeaders();
  let dropped = 0;
  let full = false;
  const send = (line: object): void => {
    if (!res.write(`${JSON.stringify(line)}\n`)) {
      full = true;
      res.once('drain', onDrain);
    }
  };
  const onDrain = (): void => {
    full = false;
    if (dropped === 0) return;
    const count = dropped;
    dropped = 0;
    send({ event: 'dropped', count, time: new Date().toISOString() });
  };
  const write = (line: object): void => {
    if (full) {
      dropped++;
      drops.countDroppedEvents(1);
      return;
    }
    send(line);
  };
  const listeners = LIFECYCLE_EVENTS.map((event) => {
    const listener = (payload: object): void => write(eventLine(event, payload));
    events.on(event, listener as never);
    return [event, listener] as const;
  });
  const stop = (): void => {
    for (const [event, listener] of listeners) events.off(event, listener as never);
    res.off('drain', onDrain);
  };
  req.socket.setTimeout(0);
  res.on('close', stop);
}

/** An event as JSON: Error objects become their message (and code). */
function eventLine(event: string, payload: object): object {
  const out: Record<string, unknown> = { event, time: new Date().toISOString() };
  for (const [k, v] of Object.entries(payload)) out[k] = v instanceof Error ? errorBody(v) : v;
  return out;
}

/** An error as an answer's JSON: its message, and its code when it has one. */
export function errorBody(err: unknown): { error: string; code?: string } {
  const code = errorCode(err);
  return { error: errorMessage(err), ...(code === undefined ? {} : { code }) };
}
