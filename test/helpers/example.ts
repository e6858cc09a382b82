// Runs an example as its users would (`node [flags] examples/…`), on a free port, and follows
// what it prints: the `listening on …:PORT` line, and a `restart done` line per restart.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** A compiled example (dist/examples/<name>/server.js), or any file under the repository. */
export function examplePath(file: string): string {
  return `${root}${file}`;
}

export class Example {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(file: string, opts: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [...(opts.nodeArgs ?? []), examplePath(file)], {
      env: { ...process.env, PORT: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: root,
    });
    const follow = (stream: NodeJS.ReadableStream, into: string[]): void => {
      readline.createInterface({ input: stream }).on('line', (l) => {
        into.push(l);
        if (process.env.TEST_VERBOSE) console.error(`[${file}] ${l}`);
        for (const w of this.waiters.splice(0)) w();
      });
    };
    follow(this.child.stdout!, this.lines);
    follow(this.child.stderr!, this.stderr);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first line (from index `from` on) that matches, waiting up to `timeoutMs`. */
  async line(re: RegExp, from = 0, timeoutMs = 20_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const l of this.lines.slice(from)) {
        const m = re.exec(l);
        if (m) return m;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(
          `no line like ${re}; out: ${this.lines.join(' | ')}; err: ${this.stderr.join(' | ')}`,
        );
      }
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** The port of the master's first address. */
  async port(): Promise<number> {
    return Number((await this.line(/listening on .*?:(\d+)\b/))[1]);
  }

  /** SIGUSR2, then the next `restart done`. */
  async restart(): Promise<void> {
    const from = this.lines.length;
    this.child.kill('SIGUSR2');
    await this.line(/^restart done/, from, 30_000);
  }

  /** The master's live children: its workers (Linux). */
  workers(): number[] {
    try {
      const text = fs.readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8');
      return text.split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Waits until only `n` workers are left, i.e. the drained ones have exited. */
  async settle(n: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.workers().length > n) {
      if (Date.now() > deadline)
        throw new Error(`still ${this.workers().length} workers after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}
