// A response body as a Node Readable that fails loudly: a stall (no data for `timeout` ms
// while we are waiting for it), a reset, or fewer bytes than Content-Length all end in an
// 'error' event, never a quiet 'end', so the master's staging fails instead of swapping in
// half a file. The stall timer runs only while a read is pending, so a slow consumer is
// not mistaken for a slow server.
import { Readable } from 'node:stream';
import { errorMessage } from '../errors.js';
import {
  ERR_FETCH_BAD_RESPONSE,
  ERR_FETCH_FAILED,
  ERR_FETCH_TIMEOUT,
  ERR_FETCH_TRUNCATED,
  fetchError,
} from './errors.js';
import type { Opened } from './request.js';

class BodyStream extends Readable {
  readonly #opened: Opened;
  readonly #timeout: number;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #expected: number | undefined;
  #received = 0;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(opened: Opened, timeout: number) {
    super();
    this.#opened = opened;
    this.#timeout = timeout;
    const { response } = opened;
    this.#reader = response.body?.getReader();
    // fetch decodes a Content-Encoding, after which Content-Length counts other bytes.
    const encoding = response.headers.get('content-encoding');
    const length = response.headers.get('content-length');
    if ((encoding === null || encoding === 'identity') && length !== null && /^\d+$/.test(length)) {
      this.#expected = Number(length);
    }
  }

  override _read(): void {
    const reader = this.#reader;
    if (reader === undefined) {
      this.#end();
      return;
    }
    this.#timer = setTimeout(() => {
      this.destroy(
        fetchError(
          ERR_FETCH_TIMEOUT,
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
            this.destroy(
              fetchError(
                ERR_FETCH_TRUNCATED,
                `${this.#label()}: got ${this.#received} of ${this.#expected} bytes (Content-Length)`,
              ),
            );
          } else {
            this.#end();
          }
          return;
        }
        this.#received += value.byteLength;
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
        this.destroy(
          fetchError(
            ERR_FETCH_FAILED,
            `${this.#label()}: broke off after ${this.#received} bytes: ${errorMessage(cause)}`,
            err,
          ),
        );
      },
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
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
    this.#opened.close();
    this.push(null);
  }

  #label(): string {
    return `${this.#opened.owner}: the body of ${this.#opened.method} ${this.#opened.where}`;
  }
}

export function bodyStream(opened: Opened, timeout: number): Readable {
  return new BodyStream(opened, timeout);
}

/** Reads a whole (small) body, refusing one larger than `limit` bytes. */
export async function readAll(stream: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw fetchError(ERR_FETCH_BAD_RESPONSE, `${what} is larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
