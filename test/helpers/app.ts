// Starts test/fixtures/app.js as a real master process and follows its JSON event lines.
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { AppOptions } from '../fixtures/app.js';

export const APP = fileURLToPath(new URL('../fixtures/app.js', import.meta.url));

export interface AppEvent {
  event: string;
  [key: string]: unknown;
}

export class AppProcess {
  readonly child: ChildProcess;
  readonly events: AppEvent[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(
    options: AppOptions,
    opts: {
      env?: NodeJS.ProcessEnv;
      script?: string;
      args?: string[];
      nodeArgs?: string[];
      /** A command that starts node in its place (systemd-socket-activate …), which execs it. */
      launcher?: string[];
    } = {},
  ) {
    const node = [process.execPath, ...(opts.nodeArgs ?? []), opts.script ?? APP, ...(opts.args ?? [])];
    const [command, ...args] = [...(opts.launcher ?? []), ...node];
    this.child = spawn(command!, args, {
      env: { ...process.env, ...opts.env, APP: JSON.stringify(options) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as AppEvent;
        if (parsed && typeof parsed.event === 'string') this.events.push(parsed);
      } catch {}
      this.notify();
    });
    readline.createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (process.env.TEST_VERBOSE) console.error(`[app ${this.child.pid}] ${line}`);
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        resolve({ code, signal });
        this.notify();
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `predicate` holds (checked on every line), or fails after `timeoutMs`. */
  async until<T>(predicate: () => T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `timed out waiting for ${what}; events: ${JSON.stringify(this.events.slice(-10))}; stderr: ${this.stderr.slice(-10).join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  count(event: string, filter: (e: AppEvent) => boolean = () => true): number {
    return this.events.filter((e) => e.event === event && filter(e)).length;
  }

  /** Waits for the n-th event of a kind (1-based). */
  nth(event: string, n: number, timeoutMs?: number): Promise<AppEvent> {
    return this.until(() => this.events.filter((e) => e.event === event)[n - 1], timeoutMs, `${event} #${n}`);
  }

  /** The port of the first listener, from the 'listening' event. */
  async port(): Promise<number> {
    const e = await this.nth('listening', 1);
    const first = (e.addresses as string[])[0]!;
    return Number(first.slice(first.lastIndexOf(':') + 1));
  }

  /** Sends the restart signal and waits for that restart's result. */
  async restart(timeoutMs = 30_000): Promise<AppEvent> {
    const before = this.count('restart');
    this.child.kill('SIGUSR2');
    return this.nth('restart', before + 1, timeoutMs);
  }

  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}
