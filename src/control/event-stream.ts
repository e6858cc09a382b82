// GET /overseer/events: the master's lifecycle events as newline-delimited JSON.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCode, errorMessage } from '../errors.js';
import { LIFECYCLE_EVENTS, type MasterEvents } from '../master/events.js';

/** Where the stream reports what its readers lost. */
export interface DropCounter {
  countDroppedEvents(n: number): void;
}

/** The most bytes a reader's events may gather within one tick before they are dropped. */
const MAX_BATCH_BYTES = 64 * 1024;

/**
 * Memory per reader is bounded by its socket's own buffer: the events of one tick go out as
 * one write, and once a write does not fit (write() says false) events are dropped and
 * counted until the socket drains; then a `dropped` line tells the reader how many it missed.
 * One write per tick, not per event: a slow reader of many small events would otherwise hold
 * a write request per event, which costs more than the event itself.
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
  let batch = '';
  let flushing: NodeJS.Immediate | undefined;
  const flush = (): void => {
    flushing = undefined;
    if (res.destroyed) return;
    let text = batch;
    batch = '';
    if (dropped > 0) {
      text += `${JSON.stringify({ event: 'dropped', count: dropped, time: new Date().toISOString() })}\n`;
      dropped = 0;
    }
    if (text !== '' && !res.write(text)) {
      full = true;
      res.once('drain', onDrain);
    }
  };
  const queue = (line: object): void => {
    const text = `${JSON.stringify(line)}\n`;
    if (full || batch.length + text.length > MAX_BATCH_BYTES) {
      dropped++;
      drops.countDroppedEvents(1);
      return;
    }
    batch += text;
    flushing ??= setImmediate(flush);
  };
  const onDrain = (): void => {
    full = false;
    if (dropped > 0) flushing ??= setImmediate(flush); // tell the reader what it missed
  };
  const listeners = LIFECYCLE_EVENTS.map((event) => {
    const listener = (payload: object): void => queue(eventLine(event, payload));
    events.on(event, listener as never);
    return [event, listener] as const;
  });
  const stop = (): void => {
    for (const [event, listener] of listeners) events.off(event, listener as never);
    res.off('drain', onDrain);
    if (flushing) clearImmediate(flushing);
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
