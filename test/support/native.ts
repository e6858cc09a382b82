// Shared helpers for the native addon's tests: the binding type's keys as values, fixture
// processes, fd inspection through /proc, and assertions on Node-style system errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type NativeBinding,
  native,
  type PosixFunctions,
  type WindowsFunctions,
} from '../../src/os/native.js';
import { fixture } from './paths.js';
import { node, type TestProcess } from './process.js';

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
  killOnParentDeath: true,
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

/**
 * A child node process running test/support/fixtures/<name>.js, which talks over its IPC channel;
 * `fds` become its fds 3, 4, … (the channel comes after them).
 */
export function startFixture(name: string, args: string[] = [], fds: number[] = []): TestProcess {
  return node(fixture(`${name}.js`), args, { output: 'inherit', fds, ipc: true, label: name });
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
