// The one way the tests (and the bench) run a program: spawn it, follow its stdout and stderr
// line by line (JSON lines with an `event` become events) and its IPC messages, wait for any
// of them within a bound, and stop or kill it by its own pid. Every process started here is
// remembered, so stopAll() in an after() hook (and, at the latest, this process's exit) ends
// whatever a test left running.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import './runtime-dir.js';
import { type Startup, workerEnvironment } from '../../src/contract/env.js';

const STARTUPS: readonly Startup[] = ['run', 'cluster', 'app'];

export interface ProcessEvent {
  event: string;
  [key: string]: unknown;
}

export interface Message {
  type: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** 'pipe' (the default) follows stdout and stderr; 'inherit' passes them through unread. */
  output?: 'pipe' | 'inherit';
  /** These fds become the child's fds 3, 4, …; an IPC channel (`ipc`) comes after them. */
  fds?: number[];
  ipc?: boolean;
  /** A name for TEST_VERBOSE's echo of the output. */
  label?: string;
}

const started = new Set<TestProcess>();

/** The lines of each stream a failure message shows. */
const TAIL_LINES = 10;
/** How node prints an uncaught error's first line (`TypeError [ERR_X]: …`) and its `code`. */
const ERROR_LINE = /^\s*(?:Uncaught )?(?:[A-Z]\w*)?(?:Error|Exception)\b[^:]*:|^\s*code: '/;
/** The most of those a failure message shows from above the tail. */
const MAX_ERROR_LINES = 4;

export class TestProcess {
  readonly child: ChildProcess;
  /** stdout, line by line. */
  readonly lines: string[] = [];
  /** When each line of `lines` arrived (Date.now()). */
  readonly lineTimes: number[] = [];
  readonly stderr: string[] = [];
  /** stdout lines that are JSON objects with an `event`. */
  readonly events: ProcessEvent[] = [];
  /** IPC messages with a `type`. */
  readonly messages: Message[] = [];
  /** Resolves when the process has exited (its output may still be draining). */
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  private closed = false;
  private waiters: (() => void)[] = [];

  constructor(command: string, args: readonly string[] = [], opts: ProcessOptions = {}) {
    const out = opts.output ?? 'pipe';
    const stdio: StdioOptions = [
      'ignore',
      out,
      out,
      ...(opts.fds ?? []),
      ...(opts.ipc ? ['ipc' as const] : []),
    ];
    this.child = spawn(command, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd, stdio });
    started.add(this);
    const label = opts.label ?? `${command.split(/[\\/]/).pop()} ${this.child.pid}`;
    const follow = (stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void => {
      if (!stream) return;
      readline.createInterface({ input: stream }).on('line', (line) => {
        if (process.env.TEST_VERBOSE) console.error(`[${label}] ${line}`);
        onLine(line);
        this.notify();
      });
    };
    follow(this.child.stdout, (line) => {
      this.lines.push(line);
      this.lineTimes.push(Date.now());
      if (!line.startsWith('{')) return;
      try {
        const parsed = JSON.parse(line) as ProcessEvent;
        if (parsed && typeof parsed.event === 'string') this.events.push(parsed);
      } catch {
        // a line that only looks like JSON is still in `lines`
      }
    });
    follow(this.child.stderr, (line) => this.stderr.push(line));
    this.child.on('message', (m: Message) => {
      if (m && typeof m.type === 'string') this.messages.push(m);
      this.notify();
    });
    let settle: (exit: Exit) => void = () => {};
    this.exited = new Promise((resolve) => {
      settle = resolve;
    });
    const finish = (exit: Exit): void => {
      this.exit ??= exit;
      settle(this.exit);
      this.notify();
    };
    this.child.once('exit', (code, signal) => finish({ code, signal }));
    this.child.once('close', () => {
      this.closed = true;
      started.delete(this);
      this.notify();
    });
    this.child.on('error', (err) => {
      this.stderr.push(`child process error: ${err.message}`);
      if (this.child.pid !== undefined) return; // a failed send or kill: it still runs
      // It could not be started: nothing will come from it.
      this.closed = true;
      finish({ code: null, signal: null });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`did not start: ${this.stderr.join('\n')}`);
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** True once it has exited and its stdout and stderr have ended too: nothing more will arrive. */
  get ended(): boolean {
    return this.closed;
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Waits until `predicate` gives a value (checked on every line, message and exit, and every
   * 100 ms), or fails after `timeoutMs`, or as soon as the process has ended without giving one.
   */
  async until<T>(predicate: () => T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        const why = left <= 0 ? `timed out after ${timeoutMs} ms` : `it ended (${JSON.stringify(this.exit)})`;
        throw new Error(`${why} waiting for ${what}; ${this.describe()}`);
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

  /**
   * What it said last, for a failure message. An uncaught error's stack is longer than the
   * tail, so stderr's error lines (the `Error: message` line, its `code`) that the tail leaves
   * out come first.
   */
  describe(): string {
    const text = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x));
    const tail = (l: unknown[]) => l.slice(-TAIL_LINES).map(text);
    const cut = this.stderr.slice(0, -TAIL_LINES).filter((l) => ERROR_LINE.test(l));
    const stderr = [...(cut.length > 0 ? [...cut.slice(-MAX_ERROR_LINES), '…'] : []), ...tail(this.stderr)];
    return `stdout: ${tail(this.lines).join(' | ')}; stderr: ${stderr.join(' | ')}; messages: ${tail(this.messages).join(' | ')}`;
  }

  /** The first stdout line from index `from` on that matches. */
  line(re: RegExp, from = 0, timeoutMs = 20_000): Promise<RegExpExecArray> {
    return this.until(
      () => {
        for (const l of this.lines.slice(from)) {
          const m = re.exec(l);
          if (m) return m;
        }
        return undefined;
      },
      timeoutMs,
      `a line like ${re}`,
    );
  }

  /** Events of a kind (and a filter) so far. */
  count(event: string, filter: (e: ProcessEvent) => boolean = () => true): number {
    return this.events.filter((e) => e.event === event && filter(e)).length;
  }

  /** The n-th event of a kind (1-based). */
  nth(event: string, n: number, timeoutMs?: number): Promise<ProcessEvent> {
    return this.until(() => this.events.filter((e) => e.event === event)[n - 1], timeoutMs, `${event} #${n}`);
  }

  /** The first IPC message of a type (already received or still to come). */
  message(type: string, timeoutMs = 10_000): Promise<Message> {
    return this.until(() => this.messages.find((m) => m.type === type), timeoutMs, `message '${type}'`);
  }

  send(message: Message): void {
    this.child.send(message);
  }

  /** Resolves with how it exited, or fails after `timeoutMs`. */
  async waitExit(timeoutMs = 10_000): Promise<Exit> {
    return this.until(() => this.exit, timeoutMs, 'its exit');
  }

  /** A signal to this process, by its pid, if it still runs. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  }

  /** SIGKILL by pid if still running. Safe to call more than once. */
  kill(): void {
    this.signal('SIGKILL');
  }

  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    this.signal(signal);
    const timer = setTimeout(() => this.kill(), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /**
   * Its live workers (Linux): the children that carry a worker's contract naming it as their
   * master. Not every child of a master is a worker: a loader's helper is one too (tsx starts
   * esbuild's service process when its cache misses, and that lives as long as the master).
   */
  workers(): number[] {
    const pid = this.child.pid;
    return pid === undefined ? [] : childrenOf(pid).filter((child) => isWorkerOf(child, pid));
  }

  /** Waits until only `n` children are left, i.e. the drained workers have exited (Linux). */
  async settle(n: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.workers().length > n) {
      if (Date.now() > deadline)
        throw new Error(`still ${this.workers().length} workers after ${timeoutMs} ms`);
      await sleep(20);
    }
  }
}

/** A node script, run with this node: `node [nodeArgs] script [args]`. */
export function node(
  script: string,
  args: readonly string[] = [],
  opts: ProcessOptions & { nodeArgs?: readonly string[] } = {},
): TestProcess {
  return new TestProcess(process.execPath, [...(opts.nodeArgs ?? []), script, ...args], opts);
}

/** Stops every process this test file started that still runs (for an after() hook). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((p) => p.stop()));
}

// Whatever is still running when this process exits is killed, so no test leaves one behind.
process.once('exit', () => {
  for (const p of started) p.kill();
});

/**
 * Sends `signal` to each of `pids` that still runs: processes a test did not start itself (a
 * handoff's new master, a grandchild), so stopAll() does not know them.
 */
export function signalAll(pids: Iterable<number>, signal: NodeJS.Signals): void {
  for (const pid of pids) {
    if (!processAlive(pid)) continue;
    try {
      process.kill(pid, signal);
    } catch {
      // it went meanwhile
    }
  }
}

/** True while `pid` runs (a zombie counts as gone: it has exited, only unreaped). */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false; // 0 and -1 would mean a whole group
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Resolves once none of `pids` runs, or fails after `timeoutMs` naming those that do. */
export async function waitGone(pids: number | readonly number[], timeoutMs = 10_000): Promise<void> {
  const all = typeof pids === 'number' ? [pids] : pids;
  const deadline = Date.now() + timeoutMs;
  while (all.some(processAlive)) {
    if (Date.now() > deadline) {
      throw new Error(`still running after ${timeoutMs} ms: ${all.filter(processAlive).join(', ')}`);
    }
    await sleep(20);
  }
}

/**
 * Workers whose master died exit normally, as node:cluster's do: each of `pids` is gone within
 * 1 s, and each one's `exit` handler appended its pid to `exitFile`.
 */
export async function exitedNormally(pids: readonly number[], exitFile: string): Promise<void> {
  await waitGone(pids, 1_000); // else: a worker outlived its master
  const exited = fs.existsSync(exitFile) ? fs.readFileSync(exitFile, 'utf8').trim().split('\n') : [];
  if (exited.map(Number).sort().join() !== [...pids].sort().join()) {
    throw new Error(`exit handlers ran in ${exited.join(', ') || 'none'} of ${pids.join(', ')}`);
  }
}

/** Asks `ask` until it gives a value (a rejection counts as none yet), for up to `timeoutMs`. */
export async function eventually<T>(
  ask: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await ask().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The children of `pid`, across its threads (Linux; [] once it is gone). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      out.push(...text.split(' ').filter(Boolean).map(Number));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** Whether `pid` was started as a worker of master `masterPid` (any start-up), from its environment. */
function isWorkerOf(pid: number, masterPid: number): boolean {
  let environ: string[];
  try {
    environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return false; // gone meanwhile
  }
  return STARTUPS.some((startup) =>
    Object.entries(workerEnvironment(startup, { masterPid })).every(([name, value]) =>
      environ.includes(`${name}=${value}`),
    ),
  );
}

/** How many fds `pid` has open, from /proc (Linux). */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of `pid` in KiB (now, or its peak: VmHWM), from /proc (Linux). Throws rather than measure nothing. */
export function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]);
}

/** A process's RSS now, its peak RSS so far (VmHWM), both in MiB, and its open fds (Linux). */
export function usage(pid: number): { rssMiB: number; peakMiB: number; fds: number } {
  return {
    rssMiB: Math.round(rssKiB(pid) / 1024),
    peakMiB: Math.round(rssKiB(pid, 'VmHWM') / 1024),
    fds: fdCount(pid),
  };
}

/**
 * `node script args | head -1`: runs the script with its stdout read until its first line, then
 * closed, so its next write gets EPIPE. Resolves with how it exited and its stderr; one that has
 * not exited `timeoutMs` after its start is killed (its exit then says SIGKILL).
 */
export async function readerGoesAway(
  script: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Exit & { stderr: string; first: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  let stderr = '';
  let out = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (out.includes('\n')) child.stdout.destroy(); // head -1 has its line and goes
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stderr, first: out.split('\n')[0]! };
}
