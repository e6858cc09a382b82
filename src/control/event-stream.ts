// GET /overseer/events: the master's lifecycle events as newline-delimited JSON, each with the
// master's name, so that the streams of several masters can be merged.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorCode, errorMessage } from '../errors.js';
import { LIFECYCLE_EVENTS, type MasterEvents } from '../master/events.js';
import { ndjsonStream } from './ndjson-stream.js';

/** Where the stream reports what its readers lost, and the name each line carries. */
export interface DropCounter {
  countDroppedEvents(n: number): void;
  name?(): string;
}

/** Memory per reader is bounded by its socket's own buffer (ndjson-stream.ts). */
export function streamEvents(
  events: EventEmitter<MasterEvents>,
  drops: DropCounter,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const stream = ndjsonStream(req, res, {
    missed: (count) => ({ event: 'dropped', count, time: new Date().toISOString() }),
    onDrop: () => drops.countDroppedEvents(1),
    onClose: () => {
      for (const [event, listener] of listeners) events.off(event, listener as never);
    },
  });
  const listeners = LIFECYCLE_EVENTS.map((event) => {
    const listener = (payload: object): void => stream.push(eventLine(event, drops.name?.(), payload));
    events.on(event, listener as never);
    return [event, listener] as const;
  });
}

/** An event as JSON: Error objects become their message (and code). */
function eventLine(event: string, name: string | undefined, payload: object): object {
  const out: Record<string, unknown> = { event, time: new Date().toISOString() };
  if (name !== undefined) out.name = name;
  for (const [k, v] of Object.entries(payload)) out[k] = v instanceof Error ? errorBody(v) : v;
  return out;
}

/** An error as an answer's JSON: its message, and its code when it has one. */
export function errorBody(err: unknown): { error: string; code?: string } {
  const code = errorCode(err);
  return { error: errorMessage(err), ...(code === undefined ? {} : { code }) };
}
