// fd flags, dup/close, describeFd, and argument validation: bad input is a catchable
// TypeError/RangeError with a code, never a crash.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { native } from '../src/os/native.js';
import { argError, fdFlags, isLinux, makeTempDir, O_CLOEXEC, sysError } from './support/native.js';

const n = native();
const tmp = makeTempDir();
after(() => tmp.cleanup());

function listener(): number {
  return n.tcpListen({ host: '127.0.0.1', port: 0, backlog: 8, ipv6Only: false, reusePort: false });
}

describe('CLOEXEC', () => {
  test('getCloexec agrees with /proc/self/fdinfo, and setCloexec toggles it', {
    skip: !isLinux && 'needs /proc',
  }, () => {
    const fd = listener();
    try {
      assert.equal(fdFlags(fd) & O_CLOEXEC, O_CLOEXEC);
      assert.equal(n.getCloexec(fd), true);
      n.setCloexec(fd, false);
      assert.equal(fdFlags(fd) & O_CLOEXEC, 0);
      assert.equal(n.getCloexec(fd), false);
      n.setCloexec(fd, true);
      assert.equal(fdFlags(fd) & O_CLOEXEC, O_CLOEXEC);
      assert.equal(n.getCloexec(fd), true);
    } finally {
      n.close(fd);
    }
  });

  test('dup returns a new CLOEXEC fd (never 0-2) for the same socket', () => {
    const fd = listener();
    n.setCloexec(fd, false);
    const copy = n.dup(fd);
    try {
      assert.notEqual(copy, fd);
      assert.ok(copy > 2);
      assert.equal(n.getCloexec(copy), true);
      if (isLinux) assert.equal(fdFlags(copy) & O_CLOEXEC, O_CLOEXEC);
      assert.equal(n.describeFd(copy).port, n.describeFd(fd).port);
    } finally {
      n.close(copy);
      n.close(fd);
    }
  });

  test('a plain file fd', () => {
    const fd = fs.openSync(path.join(tmp.dir, 'plain'), 'w');
    try {
      // The flag can be read and changed on any fd, both ways (Node opens files CLOEXEC too).
      for (const on of [false, true]) {
        n.setCloexec(fd, on);
        assert.equal(n.getCloexec(fd), on);
        if (isLinux) assert.equal(fdFlags(fd) & O_CLOEXEC, on ? O_CLOEXEC : 0);
      }
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('describeFd', () => {
  test('a unix listener, its accepted connection and an unbound client', async () => {
    const socketPath = path.join(tmp.dir, 'd.sock');
    const fd = n.unixListen(socketPath, 8);
    try {
      assert.deepEqual(n.describeFd(fd), {
        family: 'unix',
        type: 'stream',
        listening: true,
        path: socketPath,
      });
      const client = await n.unixConnect(socketPath, 2_000);
      const server = await n.accept(fd, 2_000);
      assert.deepEqual(n.describeFd(client), { family: 'unix', type: 'stream', listening: false, path: '' });
      assert.deepEqual(n.describeFd(server), {
        family: 'unix',
        type: 'stream',
        listening: false,
        path: socketPath,
      });
      n.close(client);
      n.close(server);
    } finally {
      n.close(fd);
    }
  });

  test('abstract namespace names start with @', { skip: !isLinux && 'Linux only' }, async () => {
    const name = `@overseer-test-${process.pid}-${Date.now()}`;
    const fd = n.unixListen(name, 8);
    try {
      assert.equal(n.describeFd(fd).path, name);
      const client = await n.unixConnect(name, 2_000);
      const server = await n.accept(fd, 2_000);
      assert.equal(n.describeFd(server).path, name);
      n.close(client);
      n.close(server);
    } finally {
      n.close(fd);
    }
  });

  test('ENOTSOCK for a file, EBADF for a closed fd', () => {
    const fd = fs.openSync(path.join(tmp.dir, 'file'), 'w');
    try {
      assert.throws(() => n.describeFd(fd), sysError('ENOTSOCK', 'getsockname'));
    } finally {
      fs.closeSync(fd);
    }
    assert.throws(() => n.describeFd(fd), sysError('EBADF', 'getsockname'));
  });
});

describe('close', () => {
  test('EBADF on an fd number that is already closed', () => {
    const fd = listener();
    n.close(fd);
    assert.throws(() => n.close(fd), sysError('EBADF', 'close'));
    assert.throws(() => n.getCloexec(fd), sysError('EBADF', 'fcntl'));
    assert.throws(() => n.setCloexec(fd, true), sysError('EBADF', 'fcntl'));
    assert.throws(() => n.dup(fd), sysError('EBADF', 'fcntl'));
  });
});

describe('argument validation', () => {
  const type = argError(TypeError, 'ERR_INVALID_ARG_TYPE');
  const range = argError(RangeError, 'ERR_OUT_OF_RANGE');
  const value = argError(TypeError, 'ERR_INVALID_ARG_VALUE');
  // The tests deliberately break the TypeScript types.
  const loose = n as unknown as Record<string, (...args: unknown[]) => unknown>;
  const call =
    (name: string, ...args: unknown[]) =>
    () =>
      loose[name]?.(...args);
  const tcpOptions = { host: '127.0.0.1', port: 0, backlog: 8, ipv6Only: false, reusePort: false };

  test('wrong types are TypeError ERR_INVALID_ARG_TYPE', () => {
    assert.throws(call('close', '3'), type);
    assert.throws(call('close'), type);
    assert.throws(call('describeFd', null), type);
    assert.throws(call('dup', {}), type);
    assert.throws(call('setCloexec', 3, 'yes'), type);
    assert.throws(call('tcpListen'), type);
    assert.throws(call('tcpListen', 'x'), type);
    assert.throws(call('tcpListen', { ...tcpOptions, host: 1 }), type);
    assert.throws(call('tcpListen', { ...tcpOptions, port: '80' }), type);
    assert.throws(call('tcpListen', { ...tcpOptions, reusePort: 1 }), type);
    assert.throws(call('unixListen', 5, 8), type);
    assert.throws(call('sendFds', 3, 'x', Buffer.from('a'), 100), type);
    assert.throws(call('sendFds', 3, [], 'a', 100), type);
    assert.throws(call('sendFds', 3, ['4'], Buffer.from('a'), 100), type);
    assert.throws(call('recvFds', 3, 1, 1, '100'), type);
    assert.throws(call('sendDatagram', '/x', 'data'), type);
    assert.throws(call('setParentDeathSignal', 'SIGKILL'), type);
    assert.throws(call('killOnParentDeath', '1000'), type);
    assert.throws(call('peerCredentials', 1n), type);
    assert.throws(call('unixConnect', 1, 100), type);
    assert.throws(call('accept', undefined, 100), type);
  });

  test('out-of-range numbers are RangeError ERR_OUT_OF_RANGE', () => {
    assert.throws(call('close', -1), range);
    assert.throws(call('close', 1.5), range);
    assert.throws(call('close', Number.NaN), range);
    assert.throws(call('close', 2 ** 31), range);
    assert.throws(call('describeFd', -3), range);
    assert.throws(call('tcpListen', { ...tcpOptions, port: 70000 }), range);
    assert.throws(call('tcpListen', { ...tcpOptions, port: -1 }), range);
    assert.throws(call('tcpListen', { ...tcpOptions, backlog: -1 }), range);
    assert.throws(call('unixListen', path.join(tmp.dir, 'r.sock'), -5), range);
    assert.throws(call('sendFds', 3, [-1], Buffer.from('a'), 100), range);
    assert.throws(call('sendFds', 3, new Array(254).fill(3), Buffer.from('a'), 100), range);
    assert.throws(call('sendFds', 3, [], Buffer.alloc(0), 100), range);
    assert.throws(call('sendFds', 3, [], Buffer.alloc(64 * 1024 + 1), 100), range);
    assert.throws(call('sendFds', 3, [], Buffer.from('a'), -1), range);
    assert.throws(call('recvFds', 3, 254, 16, 100), range);
    assert.throws(call('recvFds', 3, 1, 0, 100), range);
    assert.throws(call('accept', 3, 0.5), range);
    assert.throws(call('setParentDeathSignal', -1), range);
    assert.throws(call('setParentDeathSignal', 1000), range);
    assert.throws(call('killOnParentDeath', 0), range);
    assert.throws(call('killOnParentDeath', 3600 * 1000 + 1), range);
  });

  test('bad values are TypeError ERR_INVALID_ARG_VALUE', () => {
    assert.throws(call('tcpListen', { ...tcpOptions, host: 'localhost' }), value);
    assert.throws(call('tcpListen', { ...tcpOptions, host: '[::1]' }), value);
    assert.throws(call('tcpListen', { ...tcpOptions, host: '127.0.0.1:80' }), value);
    assert.throws(call('unixListen', '', 8), value);
    assert.throws(call('unixListen', 'a\0b', 8), value);
    assert.throws(call('unixConnect', '', 100), value);
    assert.throws(call('sendDatagram', '', Buffer.from('a')), value);
  });

  test('the addon names its platform', () => {
    assert.equal(n.platform, process.platform);
  });
});
