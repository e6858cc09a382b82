// The addon's surface is written once in C++ (native/surface.h) and typed once in TypeScript
// (NativeBinding, src/os/native.ts). test/support/native.ts holds the type's keys as values
// (the compiler refuses a list that misses one or adds one); these tests hold the header and
// the built addon to them, and on Windows make every POSIX function refuse with a coded error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { native } from '../src/os/native.js';
import { assertSysError, bindingValues, posixFunctions, windowsFunctions } from './support/native.js';

const onWindows = process.platform === 'win32';
const header = fileURLToPath(new URL('../../native/surface.h', import.meta.url));

/** The JavaScript names in one X-macro list of native/surface.h, in order. */
function listed(macro: string): string[] {
  const lines = fs.readFileSync(header, 'utf8').split(/\r?\n/);
  const start = lines.findIndex((line) => line.startsWith(`#define ${macro}(X)`));
  assert.ok(start >= 0, `native/surface.h defines ${macro}(X)`);
  const names: string[] = [];
  for (let i = start; lines[i]?.trimEnd().endsWith('\\'); i++) {
    const line = lines[i + 1] ?? '';
    const name = /^\s*X\("(\w+)", \w+\)/.exec(line)?.[1];
    assert.ok(name !== undefined, `not an X("name", Function) entry of ${macro}: ${line}`);
    names.push(name);
  }
  return names;
}

const sorted = (names: readonly string[]): string[] => [...names].sort();

describe('the native surface', () => {
  test('native/surface.h lists exactly the functions NativeBinding types', () => {
    const posix = listed('OVERSEER_POSIX_FUNCTIONS');
    const windows = listed('OVERSEER_WIN32_FUNCTIONS');
    assert.deepEqual(sorted(posix), sorted(posixFunctions), 'OVERSEER_POSIX_FUNCTIONS vs PosixFunctions');
    assert.deepEqual(
      sorted(windows),
      sorted(windowsFunctions),
      'OVERSEER_WIN32_FUNCTIONS vs WindowsFunctions',
    );
    const all = [...posix, ...windows];
    assert.equal(new Set(all).size, all.length, 'each name once');
  });

  test("the built addon exports exactly NativeBinding's keys for its platform", () => {
    const n = native();
    const functions = [...posixFunctions, ...(onWindows ? windowsFunctions : [])];
    assert.deepEqual(sorted(Object.getOwnPropertyNames(n)), sorted([...functions, ...bindingValues]));
    for (const name of functions) {
      const fn = (n as unknown as Record<string, unknown>)[name];
      assert.equal(typeof fn, 'function', name);
      assert.equal((fn as () => unknown).name, name);
    }
    assert.equal(n.platform, process.platform);
  });

  test('on Windows every POSIX function refuses with a coded ENOTSUP', {
    skip: !onWindows && 'Windows only',
  }, () => {
    const n = native();
    for (const name of posixFunctions) {
      assert.throws(
        () => (n[name] as () => unknown)(),
        (err) => assertSysError(err, 'ENOTSUP', name),
        name,
      );
    }
  });
});
