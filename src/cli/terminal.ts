// The terminal of `overseer top`, with ANSI escapes and no dependency: the alternate screen
// (so the shell's screen comes back as it was), no cursor, raw keys, and frames drawn over the
// last one. However the process ends (q, Ctrl+C, SIGTERM, SIGHUP, an exception), the terminal is
// restored: the normal screen, the cursor, and cooked input.
import fs from 'node:fs';
import { constants } from 'node:os';

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

export class Terminal {
  #entered = false;
  readonly #onExit = (): void => this.restore();
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.restore();
    process.exit(128 + (constants.signals[signal] ?? 15));
  };
  readonly #onException = (err: unknown): void => {
    this.restore();
    process.stderr.write(
      `overseer top: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  };

  /** Whether keys can be read (stdin is a terminal too). */
  get keys(): boolean {
    return process.stdin.isTTY === true;
  }

  get width(): number {
    return process.stdout.columns || 80;
  }

  get height(): number {
    return process.stdout.rows || 24;
  }

  /** Takes the screen; `onKey` hears each key (a sequence such as '\x1b[A' for ↑). */
  enter(onKey: (key: string) => void, onResize: () => void): void {
    this.#entered = true;
    process.once('exit', this.#onExit);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, this.#onSignal);
    process.once('uncaughtException', this.#onException);
    process.once('unhandledRejection', this.#onException);
    fs.writeSync(1, ENTER);
    if (this.keys) {
      process.stdin.setRawMode(true);
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (chunk: string) => {
        for (const key of splitKeys(chunk)) onKey(key);
      });
      process.stdin.resume();
    }
    process.stdout.on('resize', onResize);
  }

  /** Draws `lines` over the last frame (raw mode: each line ends with \r\n). */
  draw(lines: readonly string[]): void {
    process.stdout.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
  }

  /** Gives the screen back; safe to call twice, and from an 'exit' listener (it writes synchronously). */
  restore(): void {
    if (!this.#entered) return;
    this.#entered = false;
    if (this.keys) {
      try {
        process.stdin.setRawMode(false);
      } catch {}
      process.stdin.pause();
    }
    try {
      fs.writeSync(1, LEAVE);
    } catch {}
  }
}

/** A chunk of input as keys: escape sequences (arrows) whole, other characters one by one. */
export function splitKeys(chunk: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < chunk.length; ) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: an escape sequence starts with ESC
    const seq = /^\x1b(\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(chunk.slice(i));
    const key = seq ? seq[0] : chunk[i]!;
    keys.push(key);
    i += key.length;
  }
  return keys;
}
