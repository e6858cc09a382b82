// sendDatagram to an AF_UNIX SOCK_DGRAM socket at a path and in the abstract namespace.
// Node cannot receive unix datagrams, so a tiny python3 program does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { native } from '../src/os/native.js';
import { isLinux, makeTempDir, sysError } from './support/native.js';
import { stopAll, TestProcess } from './support/process.js';

const n = native();
const tmp = makeTempDir();
after(async () => {
  await stopAll();
  tmp.cleanup();
});

const hasPython =
  spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { timeout: 10_000 }).status === 0;

const RECEIVER = `
import socket, sys
name = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + name[1:] if name.startswith('@') else name)
s.settimeout(10)
print('ready', flush=True)
data = s.recv(65536)
print(data.hex(), flush=True)
`;

/** Starts a receiver bound to `name`; resolves with a function that awaits its one datagram. */
async function receiver(name: string): Promise<() => Promise<Buffer>> {
  const child = new TestProcess('python3', ['-c', RECEIVER, name], { label: 'receiver' });
  await child.line(/^ready$/, 0, 10_000);
  return async () => Buffer.from((await child.line(/^[0-9a-f]*$/, 1, 10_000))[0], 'hex');
}

describe('sendDatagram', { skip: !hasPython && 'python3 is not available', timeout: 30_000 }, () => {
  test('to a socket at a path', async () => {
    const socketPath = path.join(tmp.dir, 'notify.sock');
    const received = await receiver(socketPath);
    n.sendDatagram(socketPath, Buffer.from('READY=1\nSTATUS=path'));
    assert.equal((await received()).toString(), 'READY=1\nSTATUS=path');
  });

  test('to an abstract @name', { skip: !isLinux && 'Linux only' }, async () => {
    const name = `@overseer-test-dgram-${process.pid}-${Date.now()}`;
    const received = await receiver(name);
    n.sendDatagram(name, Buffer.from('READY=1\nSTATUS=abstract'));
    assert.equal((await received()).toString(), 'READY=1\nSTATUS=abstract');
  });
});

describe('sendDatagram errors', () => {
  test('ENOENT for a missing path', () => {
    assert.throws(
      () => n.sendDatagram(path.join(tmp.dir, 'missing.sock'), Buffer.from('x')),
      sysError('ENOENT', 'sendmsg'),
    );
  });

  test('ECONNREFUSED for a stale socket file and an unbound abstract name', () => {
    const stale = path.join(tmp.dir, 'stale.sock');
    n.close(n.unixListen(stale, 1));
    assert.throws(() => n.sendDatagram(stale, Buffer.from('x')), sysError('ECONNREFUSED', 'sendmsg'));
    if (isLinux) {
      const nobody = `@overseer-test-nobody-${process.pid}-${Date.now()}`;
      assert.throws(() => n.sendDatagram(nobody, Buffer.from('x')), sysError('ECONNREFUSED', 'sendmsg'));
    }
  });

  test('ENAMETOOLONG for a path that does not fit', () => {
    assert.throws(
      () => n.sendDatagram(`/tmp/${'x'.repeat(200)}`, Buffer.from('x')),
      sysError('ENAMETOOLONG', 'sendmsg'),
    );
  });
});
