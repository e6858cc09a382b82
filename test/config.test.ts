// Config validation: every mistake is a coded TypeError naming the field, thrown up front.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { formatAddress, parseAddress } from '../src/address.js';
import { resolveConfig } from '../src/config.js';
import { ipFamily } from '../src/ip-family.js';

const program = (): void => {};

function rejects(config: unknown, field: RegExp): void {
  assert.throws(
    () => resolveConfig(config),
    (err: unknown) => {
      assert.ok(err instanceof TypeError);
      assert.equal((err as { code?: string }).code, 'ERR_OVERSEER_INVALID_CONFIG');
      assert.match(err.message, field);
      return true;
    },
  );
}

test('defaults follow the Go library', () => {
  const c = resolveConfig({ program, address: ':3000' });
  assert.equal(c.restartSignal, 'SIGUSR2');
  assert.equal(c.terminateTimeout, 30_000);
  assert.equal(c.minFetchInterval, 1_000);
  assert.equal(c.workers, 1);
  assert.equal(c.restartMode, 'overlap');
  assert.equal(c.reusePort, false);
  assert.equal(c.noRestart, false);
  assert.equal(c.required, false);
  assert.deepEqual(c.addresses, [{ kind: 'tcp', host: '', port: 3000, text: ':3000' }]);
});

test('bad configs name the field', () => {
  rejects(null, /config must be an object/);
  rejects({}, /config\.program must be a function/);
  rejects({ program: 'main.js' }, /config\.program/);
  rejects({ program, address: ':1', addresses: [':2'] }, /config\.address and config\.addresses/);
  rejects({ program, address: 'nonsense' }, /config\.address/);
  rejects({ program, address: ':99999' }, /config\.address has a bad port/);
  rejects({ program, address: 'example.com:80' }, /config\.address must use an IP address/);
  rejects({ program, address: '::1:80' }, /bracket IPv6/);
  rejects({ program, address: 'unix:relative.sock' }, /absolute socket path/);
  rejects({ program, addresses: [':1', 42] }, /config\.addresses\[1\]/);
  // biome-ignore lint/suspicious/noSparseArray: a hole is a missing address, not one to skip
  rejects({ program, addresses: [, ':2'] }, /config\.addresses\[0\]/);
  rejects({ program, addresses: ':1' }, /config\.addresses must be an array/);
  rejects({ program, workers: 0 }, /config\.workers/);
  rejects({ program, workers: 1.5 }, /config\.workers/);
  rejects({ program, restartMode: 'fast' }, /config\.restartMode/);
  rejects({ program, terminateTimeout: -1 }, /config\.terminateTimeout/);
  rejects({ program, readyTimeout: Number.NaN }, /config\.readyTimeout/);
  rejects({ program, restartSignal: 'SIGKILL' }, /config\.restartSignal/);
  rejects({ program, restartSignal: 'SIGTERM' }, /shuts the master down/);
  rejects({ program, restartSignal: 'SIGNOPE' }, /config\.restartSignal/);
  // Node starts its inspector on SIGUSR1, whatever listens for it.
  rejects({ program, restartSignal: 'SIGUSR1' }, /cannot be SIGUSR1, on which Node starts its inspector/);
  // Sent without anyone asking for a restart: a worker's exit, a broken pipe, a resized terminal, a fault.
  for (const signal of ['SIGCHLD', 'SIGPIPE', 'SIGWINCH', 'SIGSEGV', 'SIGPROF', 'SIGXCPU'])
    rejects(
      { program, restartSignal: signal },
      new RegExp(`cannot be ${signal}, which .* sends? on (its|their) own`),
    );
  rejects({ program, noRestart: 'yes' }, /config\.noRestart must be a boolean/);
  rejects({ program, fetcher: {} }, /config\.fetcher/);
  rejects({ program, handler: 1 }, /config\.handler/);
  rejects({ program, adress: ':3000' }, /config\.adress is not a known option/);
  rejects({ program, address: 'unix:/tmp/x.sock', reusePort: true }, /config\.reusePort/);
});

test('timeouts have a lower bound of 1 ms: 0 would fail or kill every worker at once', () => {
  for (const field of ['readyTimeout', 'terminateTimeout', 'sanityCheckTimeout']) {
    rejects(
      { program, [field]: 0 },
      new RegExp(`config\\.${field} must be a number of milliseconds \\(1 to`),
    );
    assert.equal((resolveConfig({ program, [field]: 1 }) as unknown as Record<string, number>)[field], 1);
  }
  // Intervals and windows may be 0.
  assert.equal(resolveConfig({ program, minFetchInterval: 0 }).minFetchInterval, 0);
  assert.equal(resolveConfig({ program, upgradeHealthWindow: 0 }).upgradeHealthWindow, 0);
  assert.equal(resolveConfig({ program }).upgradeHealthWindow, 5_000);
  rejects({ program, upgradeHealthWindow: -1 }, /config\.upgradeHealthWindow/);
});

test('every other field is checked up front as well', () => {
  rejects({ program, addresses: [':3000', '127.0.0.1:1', ':3000'] }, /config\.addresses\[2\] repeats :3000/);
  rejects({ program, addresses: ['unix:/tmp/a.sock', 'unix:/tmp/a.sock'] }, /config\.addresses\[1\] repeats/);
  assert.equal(resolveConfig({ program, addresses: [':0', ':0'] }).addresses.length, 2, 'two free ports');
  rejects({ program, ipcPath: 'relative.sock' }, /config\.ipcPath must be '' or an absolute path/);
  rejects({ program, ipcPath: 3 }, /config\.ipcPath must be a string/);
  assert.equal(resolveConfig({ program, ipcPath: '' }).ipcPath, '');
  // A unix socket's path fits sun_path (108 bytes on Linux, 104 on macOS, its NUL included),
  // or the master would run with no control socket at all.
  if (process.platform !== 'win32') {
    const max = process.platform === 'linux' ? 107 : 103;
    const fits = `/${'x'.repeat(max - 1)}`;
    assert.equal(resolveConfig({ program, ipcPath: fits }).ipcPath, fits);
    rejects(
      { program, ipcPath: `${fits}x` },
      new RegExp(`config\\.ipcPath is ${max + 1} bytes, past the ${max} a unix socket's path may have`),
    );
  }
  rejects({ program, backlog: 0 }, /config\.backlog/);
  rejects({ program, keepReleases: 1 }, /config\.keepReleases/);
  rejects({ program, preUpgrade: 'x' }, /config\.preUpgrade/);
  rejects({ program, ipcSecurityDescriptor: 1 }, /config\.ipcSecurityDescriptor/);
  rejects({ program, debug: 1 }, /config\.debug must be a boolean/);
});

test('address forms', () => {
  assert.deepEqual(parseAddress('127.0.0.1:8080', 'a'), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 8080,
    text: '127.0.0.1:8080',
  });
  assert.deepEqual(parseAddress('[::1]:0', 'a'), { kind: 'tcp', host: '::1', port: 0, text: '[::1]:0' });
  assert.deepEqual(parseAddress('localhost:1', 'a'), {
    kind: 'tcp',
    host: '127.0.0.1',
    port: 1,
    text: 'localhost:1',
  });
  assert.deepEqual(parseAddress('unix:/run/app.sock', 'a'), {
    kind: 'unix',
    path: '/run/app.sock',
    text: 'unix:/run/app.sock',
  });
});

test('an address as users write it, with its real port, and the family of its host', () => {
  const shown = (text: string, port?: number) => formatAddress(parseAddress(text, 'a'), port);
  assert.equal(shown('127.0.0.1:0', 4321), '127.0.0.1:4321');
  assert.equal(shown(':0', 4321), ':4321');
  assert.equal(shown('[::1]:0', 4321), '[::1]:4321');
  assert.equal(shown('[::ffff:127.0.0.1]:80'), '[::ffff:127.0.0.1]:80');
  assert.equal(shown('unix:/run/app.sock', 1), 'unix:/run/app.sock');
  // What Node or parseAddress() took for an IP address, or none (''): as net.isIPv6() says.
  for (const a of [
    '127.0.0.1',
    '0.0.0.0',
    '',
    '::',
    '::1',
    '::ffff:10.0.0.1',
    'fe80::1%lo',
    '2001:db8::8:1',
  ]) {
    assert.equal(ipFamily(a), net.isIPv6(a) ? 6 : 4, a);
  }
});
