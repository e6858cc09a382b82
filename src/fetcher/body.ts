// A response body as a Node Readable that fails loudly: a stall (no data for `timeout` ms
// while we are waiting for it), a trickle (under `minBytesPerSecond` over a window of
// `timeout`), a download past its `deadline` or past `maxBytes`, a reset, or fewer bytes
// than Content-Length all end in an 'error' event, never a quiet 'end', so the master's
// staging fails instead of swapping in half a file. Time is counted only while a read is
// pending, so a slow consumer is not mistaken for a slow server.
import { Readable } from 'node:stream';
import { codedError, errorCode, errorMessage } from '../errors.js';
import type { TransferLimits } from './limits.js';
import type { Opened } from './request.js';

class BodyStream extends Readable {
  readonly #opened: Opened;
  readonly #timeout: number;
  readonly #limits: TransferLimits;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #expected: number | undefined;
  #received = 0;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #ended = false;
  /** The rate window: ms spent waiting on the server in it, and the bytes that came. */
  #waited = 0;
  #windowBytes = 0;

  constructor(opened: Opened, timeout: number, limits: TransferLimits, expected: number | undefined) {
    super();
    this.#opened = opened;
    this.#timeout = timeout;
    this.#limits = limits;
    this.#reader = opened.response.body?.getReader();
    this.#expected = expected;
    if (limits.deadline !== undefined) {
      const ms = limits.deadline;
      this.#deadline = setTimeout(() => {
        this.destroy(
          codedError(
            Error,
            'ERR_OVERSEER_FETCH_TIMEOUT',
            `${this.#label()}: not finished within the ${ms} ms deadline (${this.#received} bytes)`,
          ),
        );
      }, ms);
    }
  }

  override _read(): void {
    const reader = this.#reader;
    if (reader === undefined) {
      this.#end();
      return;
    }
    const asked = Date.now();
    this.#timer = setTimeout(() => {
      this.destroy(
        codedError(
          Error,
          'ERR_OVERSEER_FETCH_TIMEOUT',
          `${this.#label()}: no data for ${this.#timeout} ms after ${this.#received} bytes`,
        ),
      );
    }, this.#timeout);
    reader.read().then(
      ({ done, value }) => {
        clearTimeout(this.#timer);
        if (this.destroyed) return;
        if (done) {
          if (this.#expected !== undefined && this.#received !== this.#expected) {
            this.destroy(this.#truncated());
          } else {
            this.#end();
          }
          return;
        }
        this.#received += value.byteLength;
        const problem = this.#overLimit(value.byteLength, Date.now() - asked);
        if (problem) {
          this.destroy(problem);
          return;
        }
        if (value.byteLength === 0) this._read();
        else this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      },
      (err: unknown) => {
        clearTimeout(this.#timer);
        if (this.destroyed) return;
        if (this.#opened.signal.aborted) {
          this.destroy(this.#opened.signal.reason);
          return;
        }
        const cause = (err as { cause?: unknown }).cause ?? err;
        // fetch reports a server that closed before its Content-Length as a broken socket
        // ("other side closed"): a truncation, where a reset stays a failure.
        if (this.#expected !== undefined && errorCode(cause) === 'UND_ERR_SOCKET') {
          this.destroy(this.#truncated(err));
          return;
        }
        this.destroy(
          codedError(
            Error,
            'ERR_OVERSEER_FETCH_FAILED',
            `${this.#label()}: broke off after ${this.#received} bytes: ${errorMessage(cause)}`,
            err,
          ),
        );
      },
    );
  }

  /** maxBytes, and the transfer rate once a whole window of waiting has passed (curl's --speed-limit). */
  #overLimit(bytes: number, waitedMs: number): Error | undefined {
    const { maxBytes, minBytesPerSecond } = this.#limits;
    if (this.#received > maxBytes) {
      return codedError(
        Error,
        'ERR_OVERSEER_FETCH_TOO_LARGE',
        `${this.#label()}: larger than maxBytes (${maxBytes} bytes)`,
      );
    }
    this.#waited += waitedMs;
    this.#windowBytes += bytes;
    if (this.#waited < this.#timeout) return undefined;
    const rate = (this.#windowBytes * 1000) / this.#waited;
    this.#waited = 0;
    this.#windowBytes = 0;
    if (rate >= minBytesPerSecond) return undefined;
    return codedError(
      Error,
      'ERR_OVERSEER_FETCH_TOO_SLOW',
      `${this.#label()}: ${Math.round(rate)} bytes/s over ${this.#timeout} ms is under minBytesPerSecond (${minBytesPerSecond})`,
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    if (this.#ended) {
      this.#opened.close();
    } else {
      // Closing the connection is how an unfinished download is given up.
      this.#opened.close(err ?? new Error('body stream destroyed'));
      this.#reader?.cancel(err ?? undefined).catch(() => {});
    }
    callback(err);
  }

  #end(): void {
    this.#ended = true;
    clearTimeout(this.#deadline);
    this.#opened.close();
    this.push(null);
  }

  #truncated(cause?: unknown): Error {
    return codedError(
      Error,
      'ERR_OVERSEER_FETCH_TRUNCATED',
      `${this.#label()}: got ${this.#received} of ${this.#expected} bytes (Content-Length)`,
      cause,
    );
  }

  #label(): string {
    return `${this.#opened.owner}: the body of ${this.#opened.method} ${this.#opened.where}`;
  }
}

/**
 * The body of an answer as a bounded stream. A Content-Length above `limits.maxBytes` is
 * refused at once, before a byte of the body is read, and the request is closed.
 */
export function bodyStream(opened: Opened, timeout: number, limits: TransferLimits): Readable {
  const { response } = opened;
  // fetch decodes a Content-Encoding, after which Content-Length counts other bytes.
  const encoding = response.headers.get('content-encoding');
  const length = response.headers.get('content-length');
  const expected =
    (encoding === null || encoding === 'identity') && length !== null && /^\d+$/.test(length)
      ? Number(length)
      : undefined;
  if (expected !== undefined && expected > limits.maxBytes) {
    const err = codedError(
      Error,
      'ERR_OVERSEER_FETCH_TOO_LARGE',
      `${opened.owner}: ${opened.method} ${opened.where} is ${expected} bytes, over maxBytes (${limits.maxBytes})`,
    );
    opened.close(err);
    response.body?.cancel().catch(() => {});
    throw err;
  }
  return new BodyStream(opened, timeout, limits, expected);
}

/** Reads a whole (small) body, refusing one larger than `limit` bytes. */
export async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw codedError(Error, 'ERR_OVERSEER_FETCH_BAD_RESPONSE', `${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
