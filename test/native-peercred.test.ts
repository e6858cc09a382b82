// peerCredentials: the uid, gid and pid of the process on the other end of a unix socket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { native } from '../src/os/native.js';
import { makeTempDir, startFixture, sysError } from './support/native.js';
import { stopAll } from './support/process.js';

const n = native();
const tmp = makeTempDir();
after(async () => {
  await stopAll();
  tmp.cleanup();
});

const pidKnown = process.platform === 'linux' || process.platform === 'darwin';

test('credentials of a client in another process', { timeout: 30_000 }, async () => {
  const socketPath = path.join(tmp.dir, 'cred.sock');
  const listenFd = n.unixListen(socketPath, 8);
  try {
    const accepting = n.accept(listenFd, 10_000);
    const child = startFixture('peer-connect', [socketPath]);
    const fd = await accepting;
    try {
      const cred = n.peerCredentials(fd);
      assert.equal(cred.uid, process.getuid?.());
      assert.equal(cred.gid, process.getgid?.());
      assert.equal(cred.pid, pidKnown ? child.pid : -1);
    } finally {
      n.close(fd);
    }
  } finally {
    n.close(listenFd);
  }
});

test('credentials of the accepting side, seen from the client', async () => {
  const socketPath = path.join(tmp.dir, 'self.sock');
  const listenFd = n.unixListen(socketPath, 8);
  const [client, server] = await Promise.all([n.unixConnect(socketPath, 2_000), n.accept(listenFd, 2_000)]);
  try {
    const cred = n.peerCredentials(client);
    assert.equal(cred.uid, process.getuid?.());
    assert.equal(cred.pid, pidKnown ? process.pid : -1);
  } finally {
    for (const fd of [client, server, listenFd]) n.close(fd);
  }
});

test('errors: not connected, not a unix socket, not a socket', () => {
  const socketPath = path.join(tmp.dir, 'err.sock');
  const listenFd = n.unixListen(socketPath, 8);
  const tcpFd = n.tcpListen({ host: '127.0.0.1', port: 0, backlog: 1, ipv6Only: false, reusePort: false });
  const fileFd = fs.openSync(path.join(tmp.dir, 'file'), 'w');
  try {
    assert.throws(() => n.peerCredentials(listenFd), sysError('ENOTCONN', 'getpeername'));
    assert.throws(() => n.peerCredentials(tcpFd), sysError('EAFNOSUPPORT', 'getsockname'));
    assert.throws(() => n.peerCredentials(fileFd), sysError('ENOTSOCK', 'getsockname'));
  } finally {
    n.close(listenFd);
    n.close(tcpFd);
    fs.closeSync(fileFd);
  }
});
