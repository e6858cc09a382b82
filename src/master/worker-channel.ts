// The master's end of one worker's channel, in place of Node's (POSIX). The worker is spawned
// with a plain socket at NODE_CHANNEL_FD, on which its Node runs its ordinary IPC channel; the
// master reads and writes this end itself, because Node's own parser cannot be made to survive
// garbage (it throws from its read callback, and grows a string without bound). So:
// - what the worker writes is decoded within bounds (channel-wire.ts), and contract messages
//   (Node's NODE_* ones, ours among them) are bounded in size and rate;
// - what the master writes goes out one write at a time, in order; a handle goes by SCM_RIGHTS in
//   Node's handle protocol (NODE_HANDLE, then the worker's NODE_HANDLE_ACK before anything but an
//   ACK goes after it); the master's replies a worker leaves unread are bounded;
// - a worker's own handle cannot arrive (libuv's plain read drops SCM_RIGHTS): it is answered with
//   NODE_HANDLE_NACK, from the message's head alone (the program's message in it is never
//   decoded: channel-wire.ts), and the worker's Node warns after its retries;
// - the ChildProcess gets the surface Node's channel gives it: send(), disconnect(), connected,
//   channel, and the events 'message', 'internalMessage' and 'disconnect'.
// A worker that breaks a bound is reported once (onViolation) and heard no more.
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { CHANNEL_BOUNDS } from '../contract/messages.js';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import type { OwnChannel } from '../os/types.js';
import { contractTooLong, Decoder, encode, type Serialization } from './channel-wire.js';
import { isFdExhaustion } from './fd-exhaustion.js';

export type { Serialization };

/** How long one handle's write may wait for room on the socket before the worker counts as not reading. */
const SEND_FD_TIMEOUT_MS = 10_000;
/** Node's sender retries a handle the other side could not take this many times. */
const MAX_HANDLE_RETRANSMISSIONS = 3;
/** send() returns false past this many queued bytes, as Node's does ("please stop sending"). */
const BACKPRESSURE_BYTES = 2 * 64 * 1024;
const NODE_PREFIX = 'NODE_';

/** Marks a 'message' listener that waits only for a short message: see shortMessagesOnly(). */
const SHORT_ONLY = Symbol('overseer.shortMessagesOnly');

/**
 * Marks a 'message' listener that waits only for a short message of the program's (`overseer
 * run`'s 'ready'): a message longer than the contract's bound is not decoded for it, as for no
 * listener at all.
 */
export function shortMessagesOnly<F extends (...args: never[]) => unknown>(listener: F): F {
  return Object.assign(listener, { [SHORT_ONLY]: true });
}

export interface ChannelOptions {
  serialization: Serialization;
  /** The OS seam's: writes data with a copy of an fd attached. */
  sendFd: OwnChannel['sendFd'];
  /** The worker broke a bound; `what` says what it did ("sent a message longer than …"). */
  onViolation(what: string): void;
  /** Now, in ms (tests give a clock of their own). */
  now?: () => number;
}

export interface SendOptions {
  /** A net.Socket sent with it stays open here too (Node's keepOpen). */
  keepOpen?: boolean;
}

type Callback = (err: Error | null) => void;

/** A handle on its way: its fd, Node's name for its type, and what becomes of the master's copy. */
interface Passing {
  fd: number;
  type: string;
  fields?: Record<string, unknown>;
  /** Once it is queued: a net.Socket sent away is not read here any more. */
  detach(): void;
  /** After the worker's ACK (or the last NACK): a net.Socket sent away closes here, as in Node. */
  done(): void;
}

interface Outgoing {
  data: Buffer;
  /** A contract message (NODE_*): counted against the replies a worker may leave unread. */
  contract: boolean;
  /** An ACK or NACK of the worker's handle: goes even while one of ours waits for its ACK. */
  urgent: boolean;
  passing?: Passing;
  retransmissions: number;
  callback?: Callback | undefined;
}

function isInternal(m: unknown): m is { cmd: string } {
  const cmd = (m as { cmd?: unknown } | null)?.cmd;
  return typeof cmd === 'string' && cmd.length > NODE_PREFIX.length && cmd.startsWith(NODE_PREFIX);
}

/** The fd under a libuv handle (POSIX), or undefined. */
function fdOf(handle: unknown): number | undefined {
  const fd = (handle as { fd?: unknown } | null | undefined)?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

const nameOf = (x: object): string | undefined => (x.constructor as { name?: string } | undefined)?.name;

/** What Node's sender would send for `handle` (lib/internal/child_process.js, handleConversion). */
function passingOf(handle: object, options: SendOptions): Omit<Passing, 'fd'> & { fd: number | undefined } {
  const nothing = (): void => {};
  const keep = { detach: nothing, done: nothing };
  if (handle instanceof net.Socket) {
    const fd = fdOf((handle as unknown as { _handle?: unknown })._handle);
    if (options.keepOpen) return { fd, type: 'net.Socket', ...keep };
    // What arrives on it is the worker's to read.
    return { fd, type: 'net.Socket', detach: () => handle.pause(), done: () => handle.destroy() };
  }
  if (handle instanceof net.Server) {
    return { fd: fdOf((handle as unknown as { _handle?: unknown })._handle), type: 'net.Server', ...keep };
  }
  if (handle instanceof dgram.Socket) {
    // Node keeps a dgram socket's handle under a private symbol.
    const state = Object.getOwnPropertySymbols(handle)
      .filter((s) => s.description === 'state symbol')
      .map((s) => (handle as unknown as Record<symbol, { handle?: unknown }>)[s])[0];
    const dgramType = (handle as unknown as { type: string }).type;
    return { fd: fdOf(state?.handle), type: 'dgram.Socket', fields: { dgramType }, ...keep };
  }
  const name = nameOf(handle);
  if (name === 'TCP' || name === 'Pipe') return { fd: fdOf(handle), type: 'net.Native', ...keep };
  if (name === 'UDP') return { fd: fdOf(handle), type: 'dgram.Native', ...keep };
  throw codedError(TypeError, 'ERR_INVALID_HANDLE_TYPE', 'This handle type cannot be sent');
}

export class WorkerChannel {
  readonly #socket: net.Socket;
  readonly #child: ChildProcess;
  readonly #options: ChannelOptions;
  readonly #decoder: Decoder;
  readonly #now: () => number;
  #queue: Outgoing[] = [];
  /** The bytes in #queue. */
  #queued = 0;
  /** socket.write()s not yet called back (in libuv, or in the kernel's way). */
  #inFlight = 0;
  #sendingFd = false;
  #awaitingAck: Outgoing | undefined;
  /** Bytes of contract messages queued or in flight: the replies the worker has not taken. */
  #contractBytes = 0;
  #tokens: number = CHANNEL_BOUNDS.contractBurst;
  #tokensAt: number;
  #connected: boolean;
  /** disconnect() was called: what is queued still goes, then the socket ends. */
  #ending = false;
  #closed = false;
  #broken = false;
  #disconnectEmitted = false;

  /** The channel is `child.stdio[index]`, which becomes null there, as Node's IPC entry is. */
  constructor(child: ChildProcess, index: number, options: ChannelOptions) {
    this.#child = child;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#tokensAt = this.#now();
    this.#decoder = new Decoder(
      options.serialization,
      CHANNEL_BOUNDS.appMessageBytes,
      // run()'s and most of `overseer run`'s masters hear no message of the program's.
      () => child.listeners('message').some((l) => !(SHORT_ONLY in l)),
      CHANNEL_BOUNDS.contractMessageBytes,
    );
    // A worker whose spawn failed (EMFILE, EAGAIN…) has no channel: a socket that never connected
    // stands in for it, and closes below.
    const stdio = child.stdio as unknown as unknown[] | undefined; // none when spawn failed
    this.#socket = (stdio?.[index] as net.Socket | null | undefined) ?? new net.Socket();
    if (stdio) stdio[index] = null;
    this.#connected = child.pid !== undefined;
    // A worker that never started had no channel to lose.
    this.#disconnectEmitted = !this.#connected;
    this.#install();
    this.#socket.on('data', (chunk: Buffer) => this.#read(chunk));
    this.#socket.on('end', () => this.#close());
    this.#socket.on('close', () => this.#close());
    this.#socket.on('error', (err) => {
      debug('worker pid %s: channel: %s', child.pid, err.message);
      this.#close();
    });
    if (!this.#connected) this.#close();
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Its socket is closed (the worker's end closed, or the master closed it). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Node's child.send(message, handle?, options?, callback?). */
  send(message: unknown, handle?: unknown, options?: unknown, callback?: unknown): boolean {
    let cb: Callback | undefined;
    if (typeof handle === 'function') {
      cb = handle as Callback;
      handle = undefined;
      options = undefined;
    } else if (typeof options === 'function') {
      cb = options as Callback;
      options = undefined;
    } else {
      if (typeof callback === 'function') cb = callback as Callback;
      if (options !== undefined && (typeof options !== 'object' || options === null)) {
        throw codedError(TypeError, 'ERR_INVALID_ARG_TYPE', 'The "options" argument must be of type object.');
      }
    }
    const opts = (options ?? {}) as SendOptions;
    if (!this.#connected) {
      const err = codedError(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed');
      if (cb) process.nextTick(cb, err);
      else process.nextTick(() => this.#child.emit('error', err));
      return false;
    }
    if (message === undefined) {
      throw codedError(TypeError, 'ERR_MISSING_ARGS', 'The "message" argument must be specified');
    }
    if (!['string', 'object', 'number', 'boolean'].includes(typeof message)) {
      throw codedError(
        TypeError,
        'ERR_INVALID_ARG_TYPE',
        `The "message" argument must be one of type string, object, number, or boolean. Received type ${typeof message}`,
      );
    }
    let wire = message;
    let passing: Passing | undefined;
    if (handle) {
      const p = passingOf(handle as object, opts);
      // A handle with nothing under it (a server that does not listen): the message goes alone.
      if (p.fd !== undefined) {
        passing = p as Passing;
        wire = { cmd: 'NODE_HANDLE', type: p.type, msg: message, ...passing.fields };
      }
    }
    const data = encode(this.#options.serialization, wire);
    if (passing && data.length > CHANNEL_BOUNDS.handleMessageBytes) {
      throw codedError(
        RangeError,
        'ERR_OUT_OF_RANGE',
        `A message sent with a handle must take at most ${CHANNEL_BOUNDS.handleMessageBytes} bytes; this one takes ${data.length}`,
      );
    }
    passing?.detach();
    this.#enqueue({
      data,
      contract: isInternal(message),
      urgent: false,
      passing,
      retransmissions: 0,
      callback: cb,
    });
    return this.#queuedBytes() < BACKPRESSURE_BYTES;
  }

  /** Node's child.disconnect(): nothing more is sent or heard; what is queued still goes. */
  disconnect(): void {
    if (!this.#connected) {
      this.#child.emit(
        'error',
        codedError(Error, 'ERR_IPC_DISCONNECTED', 'IPC channel is already disconnected'),
      );
      return;
    }
    this.#setConnected(false);
    this.#ending = true;
    this.#pump();
  }

  /** Stops hearing and writing now, and delivers nothing more (the worker broke the contract). */
  destroy(): void {
    this.#broken = true;
    this.#close();
  }

  /** The ChildProcess's surface, as Node's setupChannel() gives it. */
  #install(): void {
    const child = this.#child as unknown as Record<string, unknown>;
    const socket = this.#socket;
    const control = {
      ref: () => socket.ref(),
      unref: () => socket.unref(),
      get fd() {
        return fdOf((socket as unknown as { _handle?: unknown })._handle);
      },
    };
    child.send = (...args: unknown[]) => this.send(...(args as [unknown, unknown?, unknown?, unknown?]));
    child.disconnect = () => this.disconnect();
    child.connected = this.#connected;
    Object.defineProperty(child, 'channel', {
      configurable: true,
      enumerable: true,
      get: () => (this.#closed || this.#ending ? null : control),
    });
  }

  #setConnected(on: boolean): void {
    this.#connected = on;
    (this.#child as { connected: boolean }).connected = on;
  }

  #read(chunk: Buffer): void {
    // A disconnected channel hears nothing more but the ACK of a handle still on its way.
    if (this.#closed || (this.#ending && this.#awaitingAck === undefined)) return;
    const problem = this.#decoder.push(chunk, (m, bytes) => this.#received(m, bytes));
    if (problem !== undefined) this.#violate(problem);
  }

  /** One decoded message; false to stop decoding (the worker broke a bound). */
  #received(m: unknown, bytes: number): boolean {
    if (this.#broken) return false;
    if (!isInternal(m)) {
      if (!this.#ending) this.#emit('message', m);
      return true;
    }
    // A handle's message carries the program's (up to its bound), undecoded.
    if (m.cmd !== 'NODE_HANDLE' && bytes > CHANNEL_BOUNDS.contractMessageBytes) {
      this.#violate(contractTooLong(bytes, CHANNEL_BOUNDS.contractMessageBytes, m.cmd));
      return false;
    }
    if (!this.#takeToken()) {
      this.#violate(
        `sent more than ${CHANNEL_BOUNDS.contractBurst} contract messages at once, or more than ${CHANNEL_BOUNDS.contractPerSecond} a second (a flood of ${m.cmd})`,
      );
      return false;
    }
    if (m.cmd === 'NODE_HANDLE_ACK') this.#handleAnswered(true);
    else if (m.cmd === 'NODE_HANDLE_NACK') this.#handleAnswered(false);
    else if (this.#ending) return true;
    else if (m.cmd === 'NODE_HANDLE') {
      // Its handle did not come with it (libuv drops SCM_RIGHTS on a plain socket): say so,
      // as Node's receiver does when a handle is lost; the worker retries, then warns.
      debug('worker pid %s sent a handle; a handle cannot reach the master (NACK)', this.#child.pid);
      this.#enqueue({
        data: encode(this.#options.serialization, { cmd: 'NODE_HANDLE_NACK' }),
        contract: true,
        urgent: true,
        retransmissions: 0,
      });
      return !this.#broken;
    }
    this.#emit('internalMessage', m);
    return true;
  }

  /** A token bucket: contractBurst at once, refilled at contractPerSecond. */
  #takeToken(): boolean {
    const now = this.#now();
    const refill = ((now - this.#tokensAt) * CHANNEL_BOUNDS.contractPerSecond) / 1000;
    this.#tokens = Math.min(CHANNEL_BOUNDS.contractBurst, this.#tokens + refill);
    this.#tokensAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** As Node does: on the next tick, and only while the channel is still there. */
  #emit(event: 'message' | 'internalMessage', m: unknown): void {
    process.nextTick(() => {
      if (!this.#broken) this.#child.emit(event, m, undefined);
    });
  }

  #handleAnswered(ok: boolean): void {
    const item = this.#awaitingAck;
    if (item === undefined) return;
    this.#awaitingAck = undefined;
    if (!ok && item.retransmissions < MAX_HANDLE_RETRANSMISSIONS) {
      // Its sender heard when the first copy went.
      this.#enqueue({ ...item, retransmissions: item.retransmissions + 1, callback: undefined }, true);
      return;
    }
    if (!ok) {
      process.emitWarning(
        'Handle did not reach the receiving process correctly',
        'SentHandleNotReceivedWarning',
      );
    }
    item.passing?.done();
    this.#pump();
  }

  #enqueue(item: Outgoing, first = false): void {
    if (this.#closed) return;
    if (item.contract) {
      this.#contractBytes += item.data.length;
      if (this.#contractBytes > CHANNEL_BOUNDS.unreadReplyBytes) {
        this.#violate(
          `left more than ${CHANNEL_BOUNDS.unreadReplyBytes} bytes of the master's replies unread (it does not read its channel)`,
        );
        return;
      }
    }
    if (first) this.#queue.unshift(item);
    else this.#queue.push(item);
    this.#queued += item.data.length;
    this.#pump();
  }

  #queuedBytes(): number {
    return this.#queued + this.#socket.writableLength;
  }

  #dequeue(i: number): Outgoing {
    const [item] = this.#queue.splice(i, 1);
    this.#queued -= item!.data.length;
    return item!;
  }

  /** Writes what may go now: in order, one handle at a time, never two writers at once. */
  #pump(): void {
    while (!this.#closed && !this.#sendingFd) {
      const i = this.#awaitingAck ? this.#queue.findIndex((x) => x.urgent) : this.#queue.length > 0 ? 0 : -1;
      if (i < 0) break;
      const passing = this.#queue[i]!.passing;
      // SCM_RIGHTS goes in a write of its own: libuv's writes must all be out first.
      if (passing && this.#inFlight > 0) return;
      const item = this.#dequeue(i);
      if (passing) {
        this.#sendWithFd(item, passing);
        return;
      }
      this.#inFlight++;
      this.#socket.write(item.data, (err) => {
        this.#inFlight--;
        this.#written(item, err ?? null);
        this.#pump();
      });
    }
    if (this.#ending && !this.#closed && this.#queue.length === 0 && this.#inFlight === 0) {
      if (!this.#sendingFd && this.#awaitingAck === undefined) this.#end();
    }
  }

  #sendWithFd(item: Outgoing, passing: Passing): void {
    const fd = fdOf((this.#socket as unknown as { _handle?: unknown })._handle);
    this.#sendingFd = true;
    // Waiting from now: the worker's ACK can be read before this write's completion is.
    this.#awaitingAck = item;
    let sent: Promise<void>;
    try {
      if (fd === undefined) throw codedError(Error, 'ERR_IPC_CHANNEL_CLOSED', 'Channel closed');
      sent = this.#options.sendFd(fd, passing.fd, item.data, SEND_FD_TIMEOUT_MS);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      () => {
        this.#sendingFd = false;
        this.#written(item, null);
        this.#pump();
      },
      (err: unknown) => {
        this.#sendingFd = false;
        if (this.#awaitingAck === item) this.#awaitingAck = undefined;
        const code = errorCode(err);
        this.#written(item, err instanceof Error ? err : new Error(errorMessage(err)));
        passing.done();
        if (isFdExhaustion(err)) {
          // No fd was left for the copies sendFd makes before it writes: nothing went, so the
          // channel is as it was. This send fails alone (a routed listen gets EMFILE, as
          // worker-process.ts says), and what follows goes.
          debug('worker pid %s: a handle could not go: %s', this.#child.pid, errorMessage(err));
          this.#pump();
        } else if (code === 'ETIMEDOUT' || code === 'EAGAIN') {
          this.#violate(`did not read its channel for ${SEND_FD_TIMEOUT_MS} ms while a handle waited to go`);
        } else {
          debug('worker pid %s: sending a handle: %s', this.#child.pid, errorMessage(err));
          this.#close();
        }
      },
    );
  }

  /**
   * A write is out, or failed: the reply is taken, and the sender's callback hears. A write that
   * fails once under way raises no 'error' (Node's own ignores those too): the channel closes.
   */
  #written(item: Outgoing, err: Error | null): void {
    if (item.contract) this.#contractBytes -= item.data.length;
    const cb = item.callback;
    item.callback = undefined;
    cb?.(err);
  }

  /** Everything queued is out after disconnect(): the worker sees the end of its channel. */
  #end(): void {
    this.#socket.end();
    this.#emitDisconnect();
  }

  #emitDisconnect(): void {
    if (this.#disconnectEmitted) return;
    this.#disconnectEmitted = true;
    process.nextTick(() => this.#child.emit('disconnect'));
  }

  #violate(what: string): void {
    if (this.#broken || this.#closed) return;
    this.#broken = true;
    this.#options.onViolation(what);
    this.#close();
  }

  /** The channel is gone (the worker closed it, died, or broke a bound): nothing more either way. */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#setConnected(false);
    const pending = this.#awaitingAck;
    this.#awaitingAck = undefined;
    pending?.passing?.done();
    for (const item of this.#queue) item.passing?.done();
    this.#queue = [];
    this.#queued = 0;
    // A handle being written is safe: it goes on a dup of this socket's fd.
    this.#socket.destroy();
    this.#emitDisconnect();
  }
}
