// The Windows addon: it loads, it builds the default SDDL from the process token, it reads
// security descriptors back, and its errors are coded. Windows only (the lane runs it under
// Wine); elsewhere every test is skipped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { describe, test } from 'node:test';
import { native } from '../src/os/native.js';
import { windowsFunctions } from './support/native.js';
import { onWindows, pipeName, windowsOnly as skip, win } from './support/windows.js';

function wine(): boolean {
  return onWindows && win().isWine();
}

/** A connection callback that closes what it gets (pipeSecurity connects as a client). */
function discard(err: Error | null, fd?: number): void {
  if (err === null && fd !== undefined) new net.Socket({ fd }).destroy();
}

/** The ACEs of a DACL-only SDDL string: [type, flags, rights, objectGuid, inheritGuid, trustee]. */
function aces(sddl: string): string[][] {
  const match = /^D:([A-Z]*)((?:\([^)]*\))*)$/.exec(sddl);
  assert.ok(match, `not a DACL-only SDDL: ${sddl}`);
  return [...(match[2] ?? '').matchAll(/\(([^)]*)\)/g)].map((m) => (m[1] ?? '').split(';'));
}

/** The current user's SID, from whoami (real Windows; Wine's whoami has no /user). */
function whoamiSid(): string {
  const out = execFileSync('whoami', ['/user', '/fo', 'csv', '/nh'], { encoding: 'utf8' });
  const sid = /"(S-1-[0-9-]+)"/.exec(out)?.[1];
  assert.ok(sid, `no SID in whoami output: ${out}`);
  return sid;
}

function assertCoded(err: unknown, code: string, syscall?: string): true {
  assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
  const e = err as NodeJS.ErrnoException;
  assert.equal(e.code, code, e.message);
  assert.equal(typeof e.errno, 'number', 'errno');
  assert.ok((e.errno ?? 0) < 0, 'errno is a negative libuv error');
  if (syscall !== undefined) assert.equal(e.syscall, syscall);
  else assert.equal(typeof e.syscall, 'string');
  return true;
}

describe('windows addon: loading', { skip }, () => {
  test('loads from prebuilds/win32-x64 with the Windows surface', () => {
    const n = native();
    assert.equal(n.platform, 'win32');
    for (const fn of windowsFunctions) {
      assert.equal(typeof n[fn], 'function', fn);
    }
    assert.equal(typeof win().isWine(), 'boolean');
  });

  test('the POSIX-only functions refuse with ENOTSUP', () => {
    assert.throws(
      () => native().describeFd(0),
      (err) => assertCoded(err, 'ENOTSUP', 'describeFd'),
    );
  });
});

describe('windows addon: security descriptors', { skip }, () => {
  test('the default SDDL is a protected DACL: the current user, SYSTEM and Administrators, nothing else', () => {
    const sddl = win().defaultPipeSddl();
    assert.ok(sddl.startsWith('D:P('), sddl);
    const list = aces(sddl);
    for (const ace of list) {
      assert.equal(ace[0], 'A', `only allow ACEs: ${sddl}`);
      assert.equal(ace[1], '', `no inheritance flags: ${sddl}`);
      assert.equal(ace[2], 'FA', `full access: ${sddl}`);
    }
    const trustees = list.map((ace) => ace[5]);
    assert.ok(trustees.includes('SY'), sddl);
    assert.ok(trustees.includes('BA'), sddl);
    const others = trustees.filter((t) => t !== 'SY' && t !== 'BA');
    assert.equal(others.length, 1, `exactly one more trustee, the user: ${sddl}`);
    if (wine()) {
      assert.match(others[0] ?? '', /^S-1-5-21-[0-9-]+$/);
    } else {
      const sid = whoamiSid();
      // A well-known account prints as its alias (the built-in Administrator as LA).
      assert.ok(others[0] === sid || (sid.endsWith('-500') && others[0] === 'LA'), `${sddl} vs ${sid}`);
    }
  });

  test('a pipe made with the default SDDL reads back exactly that SDDL', (t) => {
    const name = pipeName();
    const server = win().pipeListen(name, undefined, discard);
    t.after(() => server.close());
    const expected = win().defaultPipeSddl();
    assert.equal(server.security(), expected);
    assert.equal(win().pipeSecurity(name), expected);
  });

  test('a pipe made with a custom SDDL reads back exactly that SDDL', (t) => {
    const user = aces(win().defaultPipeSddl()).find((ace) => ace[5] !== 'SY' && ace[5] !== 'BA')?.[5];
    assert.ok(user);
    const sddl = `D:P(D;;FA;;;AN)(A;;FA;;;${user})(A;;FR;;;SY)`;
    const name = pipeName();
    const server = win().pipeListen(name, sddl, discard);
    t.after(() => server.close());
    assert.equal(server.security(), sddl);
    assert.equal(win().pipeSecurity(name), sddl);
  });

  test('an invalid SDDL, or one without a DACL, is EINVAL; an empty one is an argument error', () => {
    assert.throws(
      () => win().pipeListen(pipeName(), 'D:P(nonsense)', () => {}),
      (err) => assertCoded(err, 'EINVAL'),
    );
    assert.throws(
      () => win().pipeListen(pipeName(), 'O:SY', () => {}),
      (err) => assertCoded(err, 'EINVAL'),
    );
    assert.throws(() => win().pipeListen(pipeName(), '', () => {}), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});

describe('windows addon: arguments and coded errors', { skip }, () => {
  test('pipe names must be pipe paths', () => {
    assert.throws(() => win().pipeListen('C:\\not-a-pipe', undefined, () => {}), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
    assert.throws(() => win().pipeListen(42 as unknown as string, undefined, () => {}), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => win().pipeListen(pipeName(), undefined, 'x' as never), {
      code: 'ERR_INVALID_ARG_TYPE',
    });
    assert.throws(() => win().pipeConnect('relative', 100), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => win().pipeConnect(pipeName(), -1), { code: 'ERR_OUT_OF_RANGE' });
  });

  test('connecting to a missing pipe is ENOENT', async () => {
    await assert.rejects(win().pipeConnect(pipeName(), 1000), (err) =>
      assertCoded(err, 'ENOENT', 'CreateFileW'),
    );
  });

  test('reading the security of a missing pipe is ENOENT', () => {
    assert.throws(
      () => win().pipeSecurity(pipeName()),
      (err) => assertCoded(err, 'ENOENT'),
    );
  });
});
