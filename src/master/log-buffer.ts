// The master's memory of its workers' output (`overseer run`): the last lines, bounded in
// count and bytes, for `overseer logs`, and the followers that hear each new line.

export interface LogLine {
  /** 1, 2, 3…: a reader can tell what it missed. */
  seq: number;
  time: string;
  worker: number;
  stream: 'stdout' | 'stderr';
  /** The line as the master printed it (with its prefix), without the newline. */
  text: string;
}

type Follower = (line: LogLine) => void;

/** Bytes the buffer may hold in all, whatever its line count. */
const MAX_BYTES = 8 * 1024 * 1024;

export class LogBuffer {
  readonly #lines: LogLine[] = [];
  readonly #followers = new Set<Follower>();
  #bytes = 0;
  #seq = 0;

  constructor(readonly capacity: number) {}

  add(worker: number, stream: LogLine['stream'], text: string): void {
    const line: LogLine = { seq: ++this.#seq, time: new Date().toISOString(), worker, stream, text };
    this.#lines.push(line);
    this.#bytes += text.length;
    while (this.#lines.length > this.capacity || (this.#bytes > MAX_BYTES && this.#lines.length > 1)) {
      this.#bytes -= this.#lines.shift()!.text.length;
    }
    for (const f of this.#followers) f(line);
  }

  /** The last `n` lines held. */
  last(n: number): LogLine[] {
    return n <= 0 ? [] : this.#lines.slice(-n);
  }

  /** Calls `f` with every line from now on; returns the way to stop. */
  follow(f: Follower): () => void {
    this.#followers.add(f);
    return () => this.#followers.delete(f);
  }
}
