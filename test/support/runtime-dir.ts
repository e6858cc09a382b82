// Each test file gets a runtime directory of its own ($XDG_RUNTIME_DIR, and $TMPDIR: where masters keep their
// named control sockets), so that the masters of different test files, of other checkouts on
// the machine and of its user never meet by name. process.ts imports this for its effect:
// every process a test starts inherits the variable, the `overseer` CLI a test runs included.
// A test that runs one app several times side by side (each under the same default name, as
// the examples and the versioned apps are) gives each its own with ownRuntimeDir().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-runtime-'));
process.env.XDG_RUNTIME_DIR = RUNTIME_DIR;
// A master whose environment has no XDG_RUNTIME_DIR (a clean env, as kubelet's or systemd's)
// names its socket in the tmpdir: that is this file's too, and a name taken there by another
// test file's master (one a killed test left behind) meets no master of this one.
process.env.TMPDIR = RUNTIME_DIR;
process.on('exit', () => fs.rmSync(RUNTIME_DIR, { recursive: true, force: true }));

let made = 0;

/** A runtime directory for one process: its master's name meets no other's. */
export function ownRuntimeDir(): string {
  return fs.mkdtempSync(path.join(RUNTIME_DIR, 'own-'));
}

/** A name no other master of this test run has. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${process.pid}-${++made}`;
}
