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
  let leave = (): void => {};
  const stream = ndjsonStream(req, res, {
    missed: (count) => ({ event: 'dropped', count, time: new Date().toISOString() }),
    onDrop: () => drops.countDroppedEvents(1),
    onClose: () => leave(),
  });
  leave = join(events, (event, payload) => stream.push(eventLine(event, drops.name?.(), payload)));
}

type Reader = (event: string, payload: object) => void;

/** The readers of one master's events, and how to take their listeners off its emitter. */
interface Readers {
  all: Set<Reader>;
  detach(): void;
}

/**
 * The readers of each master's events. The master's emitter is the program's too
 * (currentMaster()), so however many read, the streams hold one listener per event on it:
 * a listener per reader would pass EventEmitter's default of 10 at the eleventh reader, and
 * put a false MaxListenersExceededWarning in the program's output.
 */
const readersOf = new WeakMap<EventEmitter<MasterEvents>, Readers>();

/** Adds `reader` to `events`' readers; the function returned takes it away. */
function join(events: EventEmitter<MasterEvents>, reader: Reader): () => void {
  const readers = readersOf.get(events) ?? attach(events);
  readers.all.add(reader);
  return () => {
    if (!readers.all.delete(reader) || readers.all.size > 0) return;
    readersOf.delete(events);
    readers.detach();
  };
}

/** One listener per lifecycle event on `events`, each passing the event to every reader. */
function attach(events: EventEmitter<MasterEvents>): Readers {
  const all = new Set<Reader>();
  const listeners = LIFECYCLE_EVENTS.map((event) => {
    const listener = (payload: object): void => {
      for (const r of all) r(event, payload);
    };
    events.on(event, listener as never);
    return [event, listener] as const;
  });
  const readers = {
    all,
    detach: () => {
      for (const [event, listener] of listeners) events.off(event, listener as never);
    },
  };
  readersOf.set(events, readers);
  return readers;
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
