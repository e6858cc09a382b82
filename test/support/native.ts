// Shared helpers for the native addon's tests: the binding type's keys as values, fixture
// processes, HTTP requests, fd inspection through /proc, and assertions on Node-style system
// errors.
import assert from 'node:assert/strict';
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type NativeBinding,
  native,
  type PosixFunctions,
  type WindowsFunctions,
} from '../../src/os/native.js';

// NativeBinding's keys as values, for tests to compare with native/surface.h and the loaded
// addon (test/native-surface.test.ts). `satisfies` makes a key the type has and a list lacks,
// or one a list adds, a compile error.
const posix = {
  tcpListen: true,
  unixListen: true,
  describeFd: true,
  getCloexec: true,
  setCloexec: true,
  dup: true,
  close: true,
  unixConnect: true,
  accept: true,
  sendFds: true,
  recvFds: true,
  peerCredentials: true,
  setParentDeathSignal: true,
  steerReuseportBySource: true,
  reapChild: true,
  sendDatagram: true,
} as const satisfies Record<keyof PosixFunctions, true>;
const windows = {
  pipeListen: true,
  pipeConnect: true,
  pipeSecurity: true,
  defaultPipeSddl: true,
  isWine: true,
} as const satisfies Record<keyof WindowsFunctions, true>;
const values = { platform: true } as const satisfies Record<
  Exclude<keyof NativeBinding, keyof PosixFunctions | keyof WindowsFunctions>,
  true
>;

/** The functions every build exports (on Windows each refuses with ENOTSUP). */
export const posixFunctions = Object.keys(posix) as (keyof PosixFunctions)[];
/** The functions only Windows builds export. */
export const windowsFunctions = Object.keys(windows) as (keyof WindowsFunctions)[];
/** The binding's properties that are values, not functions. */
export const bindingValues = Object.keys(values) as (keyof typeof values)[];

/** The addon with its Windows functions (for tests that run on Windows only). */
export function windowsNative(): NativeBinding & WindowsFunctions {
  return native() as NativeBinding & WindowsFunctions;
}

export interface Message {
  type: string;
  [key: string]: unknown;
}

/** A child node process running test/fixtures/<name>.js, with an IPC channel. */
export class Fixture {
  readonly proc: ChildProcess;
  readonly messages: Message[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly events = new EventEmitter();

  /** `fds` become the child's fds 3, 4, …; the IPC channel comes after them. */
  constructor(name: string, args: string[] = [], fds: number[] = []) {
    const script = fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
    const stdio: StdioOptions = ['ignore', 'inherit', 'inherit', ...fds, 'ipc'];
    this.proc = spawn(process.execPath, [script, ...args], { stdio });
    this.proc.on('message', (m: Message) => {
      this.messages.push(m);
      this.events.emit('change');
    });
    this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.events.emit('change');
    });
    this.proc.on('error', () => this.events.emit('change'));
  }

  get pid(): number {
    assert.ok(this.proc.pid !== undefined, 'fixture did not start');
    return this.proc.pid;
  }

  send(message: Message): void {
    this.proc.send(message);
  }

  /** The first message of `type` (already received or still to come), within timeoutMs. */
  waitFor(type: string, timeoutMs = 10_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.messages.find((m) => m.type === type);
        if (found !== undefined) {
          finish();
          resolve(found);
          return true;
        }
        if (this.exit !== undefined) {
          finish();
          reject(new Error(`fixture exited (${JSON.stringify(this.exit)}) before sending '${type}'`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for '${type}'`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      if (!check()) this.events.on('change', check);
    });
  }

  /** Resolves when the child has exited, or rejects after timeoutMs. */
  waitExit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.exit === undefined) return;
        clearTimeout(timer);
        this.events.off('change', check);
        resolve(this.exit);
      };
      const timer = setTimeout(() => {
        this.events.off('change', check);
        reject(new Error(`fixture ${this.proc.pid} did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
      this.events.on('change', check);
      check();
    });
  }

  /** SIGKILL by pid if still running. Safe to call more than once. */
  kill(): void {
    if (this.exit === undefined && this.proc.pid !== undefined) {
      try {
        process.kill(this.proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export interface HttpResult {
  status: number;
  body: string;
}

export type HttpTarget = ({ host: string; port: number } | { socketPath: string }) & { path?: string };

/** One GET on a fresh connection (no keep-alive), bounded by timeoutMs. */
export function httpGet(target: HttpTarget, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { path: '/', ...target, agent: false, headers: { connection: 'close' }, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** A fresh private directory under os.tmpdir(), removed by the returned cleanup. */
export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-native-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const isLinux = process.platform === 'linux';

/** How many fds this process has open (Linux). */
export function fdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** The open flags of `fd` from /proc/self/fdinfo (Linux), as a number. */
export function fdFlags(fd: number): number {
  const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const match = /^flags:\s+([0-7]+)$/m.exec(info);
  assert.ok(match?.[1] !== undefined, `no flags line in fdinfo of ${fd}`);
  return Number.parseInt(match[1], 8);
}

/** O_CLOEXEC as /proc/self/fdinfo reports it (octal 02000000). */
export const O_CLOEXEC = 0o2000000;

/** Asserts that `err` is a Node-style system error with this code and syscall. */
export function assertSysError(err: unknown, code: string, syscall: string): true {
  assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
  const e = err as NodeJS.ErrnoException;
  assert.equal(e.code, code, `code of: ${e.message}`);
  assert.equal(e.syscall, syscall, `syscall of: ${e.message}`);
  assert.equal(typeof e.errno, 'number');
  assert.ok((e.errno ?? 0) < 0, `errno should be negative, got ${String(e.errno)}`);
  assert.ok(e.message.startsWith(`${syscall} ${code}: `), `message: ${e.message}`);
  return true;
}

/** A matcher for assert.throws / assert.rejects. */
export function sysError(code: string, syscall: string): (err: unknown) => true {
  return (err) => assertSysError(err, code, syscall);
}

/** Asserts a validation error: its class and code. */
export function argError(kind: typeof TypeError | typeof RangeError, code: string): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`);
    assert.equal((err as NodeJS.ErrnoException).code, code);
    return true;
  };
}

/** True when this host can bind ::1. */
export function ipv6Available(): boolean {
  try {
    const fd = native().tcpListen({ host: '::1', port: 0, backlog: 1, ipv6Only: true, reusePort: false });
    native().close(fd);
    return true;
  } catch {
    return false;
  }
}

/** The port a native TCP listener is bound to. */
export function portOf(fd: number): number {
  const port = native().describeFd(fd).port;
  assert.ok(port !== undefined && port > 0, 'listener has no port');
  return port;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True while `pid` runs (a zombie counts as gone: it has exited, only unreaped). */
export function processAlive(pid: number): boolean {
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
    return !isLinux;
  }
}
