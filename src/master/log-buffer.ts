// The master's memory of its workers' output (`overseer run`): the last lines, bounded in
// count and bytes, for `overseer logs`, and the readers woken by each new line. Each line is
// kept as the JSON line a reader gets, made once however many read it, and its bytes are
// what the bound counts: a control character takes six of them escaped.

export interface LogLine {
  /** 1, 2, 3…: a reader can tell what it missed. */
  seq: number;
  time: string;
  worker: number;
  stream: 'stdout' | 'stderr';
  /** The line as the master printed it (with its prefix), without the newline. */
  text: string;
}

/** What a reader at `from` gets from read(). */
export interface LogRead {
  /** Lines from `from` on that left the buffer before they were read. */
  missed: number;
  /** The next lines, as newline-terminated JSON ('' when there are none yet). */
  json: string;
  /** Where the reader is now: the seq of the next line it would get. */
  next: number;
}

/** Bytes the buffer may hold in all, whatever its line count. */
const MAX_BYTES = 8 * 1024 * 1024;

export class LogBuffer {
  /** Each line as its JSON line; the oldest is seq #first. */
  readonly #json: string[] = [];
  readonly #bytes: number[] = [];
  readonly #watchers = new Set<() => void>();
  #total = 0;
  #first = 1;

  constructor(readonly capacity: number) {}

  add(worker: number, stream: LogLine['stream'], text: string): void {
    const line: LogLine = { seq: this.nextSeq, time: new Date().toISOString(), worker, stream, text };
    const json = `${JSON.stringify(line)}\n`;
    const bytes = Buffer.byteLength(json);
    this.#json.push(json);
    this.#bytes.push(bytes);
    this.#total += bytes;
    while (this.#json.length > this.capacity || (this.#total > MAX_BYTES && this.#json.length > 1)) {
      this.#json.shift();
      this.#total -= this.#bytes.shift()!;
      this.#first++;
    }
    for (const wake of this.#watchers) wake();
  }

  /** The seq the next line will have. */
  get nextSeq(): number {
    return this.#first + this.#json.length;
  }

  /** The seq of the oldest line held (nextSeq when none is). */
  get firstSeq(): number {
    return this.#first;
  }

  /**
   * The lines from seq `from` on, before `until`, as many as fit in `maxBytes` (one at least):
   * a reader holds only where it is, and takes its lines as its socket takes them.
   */
  read(from: number, maxBytes: number, until = Number.POSITIVE_INFINITY): LogRead {
    // Only lines it asked for (before `until`) count as missed.
    const missed = Math.max(0, Math.min(this.#first, until) - from);
    let i = Math.max(0, from + missed - this.#first);
    const end = Math.min(this.#json.length, until - this.#first);
    let bytes = 0;
    const start = i;
    while (i < end && (i === start || bytes + this.#bytes[i]! <= maxBytes)) bytes += this.#bytes[i++]!;
    return { missed, json: this.#json.slice(start, i).join(''), next: this.#first + i };
  }

  /** Calls `wake` after each new line; returns the way to stop. */
  watch(wake: () => void): () => void {
    this.#watchers.add(wake);
    return () => this.#watchers.delete(wake);
  }
}
