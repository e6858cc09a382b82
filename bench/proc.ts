// Child processes for the bench: start a node script, follow the JSON lines it prints,
// wait for its port to answer, and stop it (by its own pid only) within a bounded time.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Event {
  event: string;
  [key: string]: unknown;
}

export class NodeProcess {
  readonly child: ChildProcess;
  readonly events: Event[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<void>;

  constructor(script: string, env: NodeJS.ProcessEnv = {}, args: readonly string[] = []) {
    this.child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const e = JSON.parse(line) as Event;
        if (typeof e.event === 'string') this.events.push(e);
      } catch {}
    });
    readline.createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 20) this.stderr.shift();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The n-th (1-based) event of a kind, waiting up to `timeoutMs`. */
  async nth(event: string, n: number, timeoutMs = 20_000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const e = this.events.filter((x) => x.event === event)[n - 1];
      if (e) return e;
      if (!this.alive) break;
      await sleep(10);
    }
    const why = this.alive
      ? `timed out waiting for '${event}' #${n}`
      : `exited (${this.child.exitCode ?? this.child.signalCode})`;
    throw new Error(`${why}: ${this.stderr.slice(-3).join(' | ')}`);
  }

  count(event: string): number {
    return this.events.filter((x) => x.event === event).length;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** Polls GET / until it answers 2xx: `tries` attempts, `intervalMs` apart. */
export async function waitForHttp(port: number, tries = 100, intervalMs = 100): Promise<void> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const status = await get(port);
      if (status >= 200 && status < 300) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`127.0.0.1:${port} did not answer after ${tries} tries: ${String(last)}`);
}
