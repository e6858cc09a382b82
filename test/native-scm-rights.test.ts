// SCM_RIGHTS within one process: a unix listener, a connected client and its accepted
// peer. Received fds are CLOEXEC, every error path closes what arrived, and 1000 cycles
// (errors included) leave the process's fd count unchanged.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { native } from '../src/os/native.js';
import { fdCount, fdFlags, isLinux, makeTempDir, O_CLOEXEC, sysError } from './support/native.js';

// The arm64 lane runs this under qemu-user, which passes control messages through a buffer
// of its own: the kernel never truncates them there (no MSG_CTRUNC), so the truncation cases
// cannot be seen. They run on every native lane.
const underQemu = process.env.OVERSEER_UNDER_QEMU === '1' && 'qemu-user does not reproduce MSG_CTRUNC';

const n = native();
const tmp = makeTempDir();
let listenFd = -1;
let client = -1;
let server = -1;
let fileFd = -1;

async function connectedPair(): Promise<[number, number]> {
  const [c, s] = await Promise.all([
    n.unixConnect(path.join(tmp.dir, 'pair.sock'), 2_000),
    n.accept(listenFd, 2_000),
  ]);
  return [c, s];
}

before(async () => {
  listenFd = n.unixListen(path.join(tmp.dir, 'pair.sock'), 16);
  [client, server] = await connectedPair();
  fileFd = fs.openSync(path.join(tmp.dir, 'payload.txt'), 'w+');
  fs.writeSync(fileFd, 'hello through SCM_RIGHTS');
});

after(() => {
  for (const fd of [client, server, listenFd]) if (fd >= 0) n.close(fd);
  if (fileFd >= 0) fs.closeSync(fileFd);
  tmp.cleanup();
});

describe('sendFds/recvFds in one process', { timeout: 60_000 }, () => {
  test('fds and data arrive; received fds are CLOEXEC and usable', async () => {
    await n.sendFds(client, [fileFd, listenFd], Buffer.from('{"hello":1}'), 1_000);
    const { data, fds } = await n.recvFds(server, 4, 1024, 1_000);
    assert.equal(data.toString(), '{"hello":1}');
    assert.equal(fds.length, 2);
    const [file, sock] = fds as [number, number];
    try {
      for (const fd of fds) {
        assert.ok(fd !== fileFd && fd !== listenFd);
        assert.equal(n.getCloexec(fd), true);
        if (isLinux) assert.equal(fdFlags(fd) & O_CLOEXEC, O_CLOEXEC);
      }
      assert.equal(fs.readFileSync(`/dev/fd/${file}`, 'utf8'), 'hello through SCM_RIGHTS');
      assert.equal(n.describeFd(sock).listening, true);
    } finally {
      for (const fd of fds) n.close(fd);
    }
  });

  test('accepted and connected fds are CLOEXEC', { skip: !isLinux && 'needs /proc' }, () => {
    for (const fd of [client, server, listenFd]) {
      assert.equal(fdFlags(fd) & O_CLOEXEC, O_CLOEXEC);
      assert.equal(n.getCloexec(fd), true);
    }
  });

  test('a payload without fds, and a large payload split by the kernel', async () => {
    const big = Buffer.alloc(64 * 1024, 7);
    const sent = n.sendFds(client, [], big, 5_000);
    let received = 0;
    while (received < big.length) {
      const { data, fds } = await n.recvFds(server, 1, 64 * 1024, 5_000);
      assert.equal(fds.length, 0);
      assert.ok(data.every((b) => b === 7));
      received += data.length;
    }
    await sent;
    assert.equal(received, big.length);
  });

  test('more fds than maxFds: EMSGSIZE, and the ones that arrived are closed', {
    skip: underQemu,
  }, async () => {
    const before = isLinux ? fdCount() : 0;
    await n.sendFds(client, [fileFd, fileFd, fileFd], Buffer.from('x'), 1_000);
    await assert.rejects(n.recvFds(server, 1, 16, 1_000), (err: unknown) => {
      sysError('EMSGSIZE', 'recvmsg')(err);
      assert.match((err as Error).message, /MSG_CTRUNC/);
      return true;
    });
    await n.sendFds(client, [fileFd], Buffer.from('y'), 1_000);
    await assert.rejects(n.recvFds(server, 0, 16, 1_000), sysError('EMSGSIZE', 'recvmsg'));
    if (isLinux) assert.equal(fdCount(), before);
    // The stream is still in step: the next message is intact.
    await n.sendFds(client, [fileFd], Buffer.from('z'), 1_000);
    const next = await n.recvFds(server, 1, 16, 1_000);
    assert.equal(next.data.toString(), 'z');
    assert.equal(next.fds.length, 1);
    for (const fd of next.fds) n.close(fd);
  });

  test('EBADF for a bad fd, EPIPE when the peer has closed, ETIMEDOUT when nothing comes', async () => {
    await assert.rejects(n.sendFds(client, [2 ** 30], Buffer.from('x'), 1_000), sysError('EBADF', 'sendmsg'));
    await assert.rejects(n.recvFds(server, 1, 16, 50), sysError('ETIMEDOUT', 'recvmsg'));
    const [c, s] = await connectedPair();
    n.close(s);
    await assert.rejects(n.sendFds(c, [fileFd], Buffer.from('x'), 1_000), sysError('EPIPE', 'sendmsg'));
    n.close(c);
  });

  test('data.length 0 means the peer closed', async () => {
    const [c, s] = await connectedPair();
    n.close(c);
    const { data, fds } = await n.recvFds(s, 1, 16, 1_000);
    assert.equal(data.length, 0);
    assert.deepEqual(fds, []);
    n.close(s);
  });

  test('the fd count is stable across 1000 cycles, errors included', {
    skip: (!isLinux && 'needs /proc') || underQemu,
  }, async () => {
    const [deadClient, deadServer] = await connectedPair();
    n.close(deadServer);
    const one = Buffer.from('1');
    const cycle = async (i: number): Promise<void> => {
      switch (i % 10) {
        case 5: // fits the control buffer's alignment slack, but is still more than asked for
          await n.sendFds(client, [fileFd, fileFd], one, 1_000);
          await assert.rejects(n.recvFds(server, 1, 16, 1_000), sysError('EMSGSIZE', 'recvmsg'));
          return;
        case 6: // no room for any fd
          await n.sendFds(client, [fileFd], one, 1_000);
          await assert.rejects(n.recvFds(server, 0, 16, 1_000), sysError('EMSGSIZE', 'recvmsg'));
          return;
        case 7: // more fds than the receiver takes
          await n.sendFds(client, [fileFd, listenFd, fileFd], one, 1_000);
          await assert.rejects(n.recvFds(server, 2, 16, 1_000), sysError('EMSGSIZE', 'recvmsg'));
          return;
        case 8:
          await assert.rejects(n.sendFds(deadClient, [fileFd], one, 1_000), sysError('EPIPE', 'sendmsg'));
          return;
        case 9:
          await assert.rejects(
            n.sendFds(client, [fileFd, 2 ** 30], one, 1_000),
            sysError('EBADF', 'sendmsg'),
          );
          return;
        default: {
          await n.sendFds(client, [fileFd, listenFd], Buffer.from(`m${i}`), 1_000);
          const { data, fds } = await n.recvFds(server, 4, 64, 1_000);
          assert.equal(data.toString(), `m${i}`);
          assert.equal(fds.length, 2);
          for (const fd of fds) n.close(fd);
        }
      }
    };
    for (let i = 0; i < 20; i++) await cycle(i); // warm up lazily opened fds
    const baseline = fdCount();
    for (let i = 0; i < 1000; i++) await cycle(i);
    assert.equal(fdCount(), baseline);
    n.close(deadClient);
  });
});

describe('unixConnect/accept', () => {
  test('ENOENT for a missing path, ETIMEDOUT when nobody connects', async () => {
    await assert.rejects(
      n.unixConnect(path.join(tmp.dir, 'missing.sock'), 1_000),
      sysError('ENOENT', 'connect'),
    );
    await assert.rejects(n.accept(listenFd, 50), sysError('ETIMEDOUT', 'accept'));
  });

  test('ECONNREFUSED for a stale socket file', async () => {
    const stale = path.join(tmp.dir, 'stale.sock');
    n.close(n.unixListen(stale, 1));
    await assert.rejects(n.unixConnect(stale, 1_000), sysError('ECONNREFUSED', 'connect'));
  });

  test('EBADF from accept on a closed fd, ENOTSOCK on a file', async () => {
    const fd = n.dup(listenFd);
    n.close(fd);
    await assert.rejects(n.accept(fd, 1_000), sysError('EBADF', 'accept'));
    await assert.rejects(n.accept(fileFd, 1_000), sysError('ENOTSOCK', 'accept'));
  });
});
