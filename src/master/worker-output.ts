// A worker's stdout and stderr under `overseer run`: passed through line by line, so the
// lines of several workers never mix mid-line, optionally prefixed with `[worker N]`, and
// kept in the master's log buffer. When the master's own stdout or stderr cannot keep up,
// every worker's pipe is paused until it drains: a slow terminal slows the app down, as it
// would without overseer, and no line is dropped or held without bound.
import type { Readable, Writable } from 'node:stream';
import type { LogBuffer } from './log-buffer.js';

/** A longer line is passed on in pieces of this many characters. */
const MAX_LINE = 64 * 1024;

/** How often a pipe let go of (see `release`) is looked at, to close it once it is quiet. */
const QUIET_MS = 1_000;

/**
 * Lines passed on before the pipes yield a turn of the event loop: libuv hands over many reads
 * a turn, and a sink that never pushes back (a file, /dev/null) would let a flood of short
 * lines hold the master's loop, its control socket and channels included, for as long as it lasts.
 */
const LINES_PER_TURN = 4_096;

/** One worker's stdout or stderr, passed on. */
export interface PassedOutput {
  /** 'stdout' or 'stderr'. */
  readonly stream: string;
  /** Resolves when all of it has been passed on (it ended), or the pipe failed or was closed. */
  readonly passedOn: Promise<void>;
  /**
   * Its worker has exited, and a process it started may hold the pipe for good: the master
   * closes its end once nothing has come for QUIET_MS and it was not paused in that time (no
   * line already written is lost), and then calls `closed`.
   */
  release(closed: () => void): void;
}

export class WorkerOutput {
  readonly #paused = new Set<Readable>();
  readonly #sources = new Set<Readable>();
  #waiting = false;
  /** Lines since the last yield; the pipes paused for the rest of this turn. */
  #lines = 0;
  readonly #yielded = new Set<Readable>();

  constructor(
    private readonly buffer: LogBuffer,
    private readonly prefix: boolean,
    private readonly out: { stdout: Writable; stderr: Writable } = process,
  ) {}

  /**
   * Passes on what worker `id` writes to `source`, until it ends; none when it could not be
   * started. Resolves once all of it has been passed on (or the pipe failed).
   */
  attach(id: number, stream: 'stdout' | 'stderr', source: Readable | null | undefined): PassedOutput {
    // A spawn that failed for want of fds (EMFILE, ENFILE) leaves the child without stdio at all.
    if (source === null || source === undefined)
      return { stream, passedOn: Promise.resolve(), release: () => {} };
    const sink = this.out[stream];
    const prefix = this.prefix ? `[worker ${id}] ` : '';
    let partial = '';
    const emit = (text: string): void => {
      this.#lines++;
      const line = prefix + text;
      this.buffer.add(id, stream, line);
      if (!sink.write(`${line}\n`)) this.#pauseUntilDrained(sink);
    };
    this.#sources.add(source);
    source.setEncoding('utf8');
    let chunks = 0;
    source.on('data', (chunk: string) => {
      chunks++;
      const text = partial + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        emit(text.slice(start, nl > start && text[nl - 1] === '\r' ? nl - 1 : nl));
        start = nl + 1;
      }
      for (; text.length - start > MAX_LINE; start += MAX_LINE) emit(text.slice(start, start + MAX_LINE));
      partial = text.slice(start);
      if (this.#waiting) this.#pause(source);
      else if (this.#lines >= LINES_PER_TURN) this.#yieldTurn(source);
    });
    source.on('error', () => {});
    const passedOn = new Promise<void>((passedOn) => {
      // The last line of a worker that ends without a newline is still a line.
      const last = (): void => {
        if (partial !== '') emit(partial);
        partial = '';
      };
      source.once('end', () => {
        last();
        passedOn();
      });
      source.once('close', () => {
        last();
        this.#sources.delete(source);
        this.#paused.delete(source);
        passedOn();
      });
    });
    const release = (closed: () => void): void => {
      if (!this.#sources.has(source)) return;
      // What it had at the last look: quiet means no chunk since, and no pause then or now
      // (a resumed pipe's bytes come a moment after its resume).
      let seen = chunks;
      let wasPaused = this.#paused.has(source);
      const look = (): void => {
        if (!this.#sources.has(source)) return;
        const paused = this.#paused.has(source);
        if (seen === chunks && !paused && !wasPaused) {
          source.destroy();
          closed();
          return;
        }
        seen = chunks;
        wasPaused = paused;
        setTimeout(look, QUIET_MS).unref();
      };
      setTimeout(look, QUIET_MS).unref();
    };
    return { stream, passedOn, release };
  }

  /** `source` waits for the next turn, when the count starts again. */
  #yieldTurn(source: Readable): void {
    source.pause();
    if (this.#yielded.size === 0) {
      setImmediate(() => {
        this.#lines = 0;
        for (const s of this.#yielded) {
          if (!this.#sources.has(s)) continue;
          if (this.#waiting)
            this.#pause(s); // the sink's drain resumes it
          else s.resume();
        }
        this.#yielded.clear();
      });
    }
    this.#yielded.add(source);
  }

  #pause(source: Readable): void {
    source.pause();
    this.#paused.add(source);
  }

  #pauseUntilDrained(sink: Writable): void {
    if (this.#waiting) return;
    this.#waiting = true;
    for (const s of this.#sources) this.#pause(s);
    sink.once('drain', () => {
      this.#waiting = false;
      for (const s of this.#paused) s.resume();
      this.#paused.clear();
    });
  }
}
