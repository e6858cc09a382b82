// The messages between master and worker on the Node IPC channel. Their `cmd` starts with
// NODE_, which Node delivers as 'internalMessage' and never to a 'message' listener (the way
// node:cluster keeps its own traffic apart), so the program's process.send() and ours never
// meet: a program may use its IPC channel as it likes. A worker is untrusted input to its
// master: every message it sends is checked against the schema below, within the bounds below.
import type { EventEmitter } from 'node:events';

export const CMD = 'NODE_OVERSEER';

/**
 * What a master takes from a worker on its channel (README, "The worker is untrusted input"); a
 * worker that goes past any of them is killed. The byte sizes are as the message travels.
 */
export const CHANNEL_BOUNDS = {
  /** One message of the contract: ours, and Node's own (NODE_HANDLE_ACK…). */
  contractMessageBytes: 16 * 1024,
  /** One message of the program's (process.send()). Node has no bound; a bounded master needs one. */
  appMessageBytes: 16 * 1024 * 1024,
  /** Contract messages a worker may send at once, and then each second. */
  contractBurst: 1000,
  contractPerSecond: 200,
  /** Replies of the master (acks, routed sockets) a worker may leave unread. */
  unreadReplyBytes: 1024 * 1024,
  /** A message that goes with a handle (SCM_RIGHTS carries it in one write). */
  handleMessageBytes: 64 * 1024,
} as const;

/** What a worker asks the master to listen on for it (listen routing). */
export interface ListenRequest {
  /** '' for every interface; undefined for a unix path. */
  host?: string;
  port?: number;
  /** A unix socket's absolute path, or a name in Linux's abstract namespace (isAbstractSocket). */
  path?: string;
  backlog?: number;
  ipv6Only?: boolean;
  /** A unix socket's mode: readable and/or writable by everyone (net's readableAll, writableAll). */
  readableAll?: boolean;
  writableAll?: boolean;
  /** The how-many-th listen of this worker on this address, so listen(0) twice is two ports. */
  index: number;
}

/**
 * Whether a unix socket path names Linux's abstract namespace, as Node's net takes it: a NUL
 * byte, then the name. No file goes with it: nothing to resolve, stat, chmod or remove.
 */
export function isAbstractSocket(path: string): boolean {
  return path.startsWith('\0');
}

/**
 * A routed server's address, as node:cluster reports it with 'listening': the address that
 * was asked for (null for every interface; the path of a unix socket), and the port it got.
 */
export interface ListeningInfo {
  addressType: 4 | 6 | -1;
  address: string | null;
  port: number;
  /** The key of the socket in the master (what the worker asked for). */
  key: string;
}

export interface RouteError {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
}

/** Worker to master. */
export type WorkerMessage =
  | { cmd: typeof CMD; act: 'ready' }
  | { cmd: typeof CMD; act: 'failed'; message: string; stack?: string }
  /** Windows: send me the configured listeners. */
  | { cmd: typeof CMD; act: 'listeners' }
  /** The worker side is up (node:cluster's 'online'). */
  | { cmd: typeof CMD; act: 'online' }
  /** Route this server.listen() through the master. */
  | { cmd: typeof CMD; act: 'listen'; seq: number; request: ListenRequest }
  /** A routed server listens: `info.key` must be a key the master routed to this worker. */
  | { cmd: typeof CMD; act: 'listening'; info: ListeningInfo }
  /** A routed server that listened has closed (the key it listened on). */
  | { cmd: typeof CMD; act: 'closed'; key: string }
  /** The worker is leaving on its own (worker.disconnect()/destroy() in the worker). */
  | { cmd: typeof CMD; act: 'leaving'; seq: number };

/** Master to worker. */
export type MasterMessage =
  /** Drain and exit; `stop`: the master is stopping, this is no restart's retirement. */
  | { cmd: typeof CMD; act: 'shutdown'; stop?: true }
  /** Windows: one configured listener; its handle comes with the message. */
  | { cmd: typeof CMD; act: 'listener'; index: number; address: string }
  /** The answer to 'listen': the socket's handle comes with it, or an error. */
  | { cmd: typeof CMD; act: 'routed'; seq: number; key: string; error?: RouteError }
  /** Close your servers and disconnect (worker.disconnect() in the primary). */
  | { cmd: typeof CMD; act: 'disconnect' }
  | { cmd: typeof CMD; act: 'ack'; seq: number };

type WithoutCmd<M> = M extends unknown ? Omit<M, 'cmd'> : never;

// The schema a worker's messages must keep. A check returns what is wrong with a value, or
// undefined. Fields a master does not read are let be, and so is an act it does not know (a newer
// worker's, after an upgrade): neither can hurt it. Every field it reads is checked, with bounds.

type Check = (value: unknown) => string | undefined;

/** How long the texts of a 'failed' message may be (the worker clips them: failedMessage()). */
const FAILURE_TEXT = { message: 2048, stack: 8192 } as const;
const PATH_CHARS = 4096;

const count: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? undefined : 'is not a count');
const port: Check = (v) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? undefined : 'is not a port';
const flag: Check = (v) => (typeof v === 'boolean' ? undefined : 'is not a boolean');
const text =
  (max: number): Check =>
  (v) =>
    typeof v !== 'string'
      ? 'is not a string'
      : v.length > max
        ? `is longer than ${max} characters`
        : undefined;
const optional =
  (check: Check): Check =>
  (v) =>
    v === undefined ? undefined : check(v);
const oneOf =
  (...values: readonly unknown[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `is not one of ${values.join(', ')}`;
const either =
  (a: Check, b: Check): Check =>
  (v) =>
    a(v) === undefined ? undefined : b(v);

function fields(shape: { readonly [field: string]: Check }, v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not an object';
  for (const [name, check] of Object.entries(shape)) {
    const problem = check((v as Record<string, unknown>)[name]);
    if (problem !== undefined) return `${name} ${problem}`;
  }
  return undefined;
}
const object =
  (shape: { readonly [field: string]: Check }): Check =>
  (v) =>
    fields(shape, v);

const LISTEN_REQUEST = object({
  host: optional(text(255)),
  port: optional(port),
  path: optional(text(PATH_CHARS)),
  backlog: optional(count),
  ipv6Only: optional(flag),
  readableAll: optional(flag),
  writableAll: optional(flag),
  index: count,
});

const LISTENING_INFO = object({
  addressType: oneOf(4, 6, -1),
  address: either(oneOf(null), text(PATH_CHARS)),
  port: either(oneOf(-1), port),
  key: text(PATH_CHARS + 64),
});

/** Every message a worker sends, by its act: the fields the master reads. A new act needs its row. */
const WORKER_SCHEMA: { readonly [A in WorkerMessage['act']]: { readonly [field: string]: Check } } = {
  ready: {},
  failed: { message: text(FAILURE_TEXT.message), stack: optional(text(FAILURE_TEXT.stack)) },
  listeners: {},
  online: {},
  listen: { seq: count, request: LISTEN_REQUEST },
  listening: { info: LISTENING_INFO },
  closed: { key: text(PATH_CHARS + 64) },
  leaving: { seq: count },
};

/** What is wrong with a message of ours from a worker (`cmd` is ours), or undefined when it keeps the contract. */
export function workerMessageProblem(m: object): string | undefined {
  const act = (m as { act?: unknown }).act;
  if (typeof act !== 'string') return 'act is not a string';
  if (!Object.hasOwn(WORKER_SCHEMA, act)) return undefined;
  const shape = WORKER_SCHEMA[act as WorkerMessage['act']];
  const problem = fields(shape, m);
  return problem === undefined ? undefined : `${act}: ${problem}`;
}

/** A worker's 'failed' message, its texts clipped to what the contract takes. */
export function failedMessage(error: string, stack?: string): WorkerMessage {
  const clip = (s: string, max: number): string =>
    s.length > max ? `${s.slice(0, Math.max(0, max - 1))}…` : s;
  let text = clip(error, FAILURE_TEXT.message);
  let trace = stack === undefined ? undefined : clip(stack, FAILURE_TEXT.stack);
  const make = (): WorkerMessage =>
    message<WorkerMessage>({
      act: 'failed',
      message: text,
      ...(trace === undefined ? {} : { stack: trace }),
    });
  // Texts that take many bytes a character (escaped control characters in JSON, two bytes each
  // in V8's serialization) could still be too long to travel: half the bound leaves room for both.
  while (Buffer.byteLength(JSON.stringify(make())) > CHANNEL_BOUNDS.contractMessageBytes / 2) {
    if (trace !== undefined && trace.length > 1) trace = clip(trace, trace.length >> 1);
    else if (trace !== undefined) trace = undefined;
    else text = clip(text, text.length >> 1);
  }
  return make();
}

/** One of our messages: `message<WorkerMessage>({ act: 'ready' })`. */
export function message<M extends WorkerMessage | MasterMessage>(m: WithoutCmd<M>): M {
  return { cmd: CMD, ...m } as M;
}

export function isOurs(m: unknown): m is WorkerMessage | MasterMessage {
  return typeof m === 'object' && m !== null && (m as { cmd?: unknown }).cmd === CMD;
}

/** Calls `fn` for each of our messages `emitter` (a ChildProcess, or process) receives. */
export function onMessages<M extends WorkerMessage | MasterMessage>(
  emitter: EventEmitter,
  fn: (m: M, handle: unknown) => void,
): () => void {
  const listener = (m: unknown, handle: unknown): void => {
    if (isOurs(m)) fn(m as M, handle);
  };
  emitter.on('internalMessage', listener);
  return () => emitter.off('internalMessage', listener);
}
