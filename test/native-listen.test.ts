// Listeners made by the addon in one process (which never accepts on them) and served by
// HTTP servers in child processes, as the master and its workers will do.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { native } from '../src/os/native.js';
import { get, type HttpTarget } from './support/http.js';
import { ipv6Available, isLinux, makeTempDir, portOf, startFixture, sysError } from './support/native.js';
import { stopAll, type TestProcess } from './support/process.js';

const n = native();
const openFds: number[] = [];
const tmp = makeTempDir();

after(async () => {
  await stopAll();
  for (const fd of openFds) {
    try {
      n.close(fd);
    } catch {
      // already closed by the test
    }
  }
  tmp.cleanup();
});

function tcp(host: string, port = 0, opts: { reusePort?: boolean; ipv6Only?: boolean } = {}): number {
  const fd = n.tcpListen({
    host,
    port,
    backlog: 511,
    ipv6Only: opts.ipv6Only ?? false,
    reusePort: opts.reusePort ?? false,
  });
  openFds.push(fd);
  return fd;
}

async function serve(fd: number): Promise<TestProcess> {
  const child = startFixture('serve-fd', ['3'], [fd]);
  await child.message('listening');
  return child;
}

async function expectServedBy(target: HttpTarget, child: TestProcess, count = 5): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await get(target, { timeoutMs: 5_000 });
    assert.equal(res.status, 200);
    assert.equal(res.body, String(child.pid));
  }
}

describe('tcpListen served by another process', { timeout: 60_000 }, () => {
  test('IPv4 on 127.0.0.1, port 0', async () => {
    const fd = tcp('127.0.0.1');
    const d = n.describeFd(fd);
    assert.equal(d.family, 'IPv4');
    assert.equal(d.type, 'stream');
    assert.equal(d.listening, true);
    assert.equal(d.address, '127.0.0.1');
    assert.ok((d.port ?? 0) > 0);
    assert.equal(n.getCloexec(fd), true);
    const child = await serve(fd);
    await expectServedBy({ host: '127.0.0.1', port: portOf(fd) }, child);
  });

  test('IPv6 on ::1', { skip: !ipv6Available() && 'IPv6 is not available' }, async () => {
    const fd = tcp('::1', 0, { ipv6Only: true });
    const d = n.describeFd(fd);
    assert.equal(d.family, 'IPv6');
    assert.equal(d.address, '::1');
    const child = await serve(fd);
    await expectServedBy({ host: '::1', port: portOf(fd) }, child);
  });

  test('empty host listens on all interfaces (dual stack when IPv6 exists)', async () => {
    const fd = tcp('');
    const d = n.describeFd(fd);
    if (d.family === 'IPv6') assert.equal(d.address, '::');
    else assert.deepEqual([d.family, d.address], ['IPv4', '0.0.0.0']);
    const child = await serve(fd);
    await expectServedBy({ host: '127.0.0.1', port: portOf(fd) }, child, 3);
    if (d.family === 'IPv6' && ipv6Available()) {
      await expectServedBy({ host: '::1', port: portOf(fd) }, child, 3);
    }
  });

  test('ipv6Only decides whether IPv4 shares the port', {
    skip: !ipv6Available() && 'IPv6 is not available',
  }, () => {
    const v6only = tcp('::', 0, { ipv6Only: true });
    const v4 = tcp('0.0.0.0', portOf(v6only));
    assert.equal(n.describeFd(v4).port, portOf(v6only));
    const dual = tcp('::', 0, { ipv6Only: false });
    assert.throws(() => tcp('0.0.0.0', portOf(dual)), sysError('EADDRINUSE', 'bind'));
  });
});

describe('unixListen served by another process', { timeout: 60_000 }, () => {
  test('a unix-socket listener', async () => {
    const socketPath = path.join(tmp.dir, 'http.sock');
    const fd = n.unixListen(socketPath, 511);
    openFds.push(fd);
    const d = n.describeFd(fd);
    assert.deepEqual(
      { family: d.family, type: d.type, listening: d.listening, path: d.path },
      { family: 'unix', type: 'stream', listening: true, path: socketPath },
    );
    assert.equal(n.getCloexec(fd), true);
    const child = await serve(fd);
    await expectServedBy({ socketPath }, child);
  });

  test('EADDRINUSE when the path exists, ENAMETOOLONG when it does not fit', () => {
    const socketPath = path.join(tmp.dir, 'taken.sock');
    openFds.push(n.unixListen(socketPath, 8));
    assert.throws(() => n.unixListen(socketPath, 8), sysError('EADDRINUSE', 'bind'));
    assert.throws(
      () => n.unixListen(path.join(tmp.dir, 'x'.repeat(200)), 8),
      sysError('ENAMETOOLONG', 'bind'),
    );
  });
});

describe('SO_REUSEPORT', { timeout: 60_000 }, () => {
  test('two reuseport listeners on one port both receive connections', {
    skip: !isLinux && 'Linux only',
  }, async () => {
    const first = tcp('127.0.0.1', 0, { reusePort: true });
    const port = portOf(first);
    const second = tcp('127.0.0.1', port, { reusePort: true });
    assert.equal(portOf(second), port);
    const a = await serve(first);
    const b = await serve(second);

    const counts = new Map<string, number>();
    let failures = 0;
    for (let i = 0; i < 200; i++) {
      try {
        const res = await get(port, { timeoutMs: 5_000 });
        counts.set(res.body, (counts.get(res.body) ?? 0) + 1);
      } catch {
        failures++;
      }
    }
    assert.equal(failures, 0);
    assert.deepEqual([...counts.keys()].sort(), [String(a.pid), String(b.pid)].sort());
    assert.ok((counts.get(String(a.pid)) ?? 0) > 0 && (counts.get(String(b.pid)) ?? 0) > 0);
  });

  test('a listener without reusePort cannot join', () => {
    const first = tcp('127.0.0.1', 0, { reusePort: isLinux });
    assert.throws(
      () => tcp('127.0.0.1', portOf(first)),
      (err: unknown) => {
        sysError('EADDRINUSE', 'bind')(err);
        const e = err as Error & { address?: string; port?: number };
        assert.equal(e.address, '127.0.0.1');
        assert.equal(e.port, portOf(first));
        assert.match(
          e.message,
          new RegExp(`^bind EADDRINUSE: address already in use 127\\.0\\.0\\.1:${portOf(first)}$`),
        );
        return true;
      },
    );
  });

  test('macOS refuses reusePort with ENOTSUP', {
    skip: process.platform !== 'darwin' && 'macOS only',
  }, () => {
    assert.throws(() => tcp('127.0.0.1', 0, { reusePort: true }), sysError('ENOTSUP', 'setsockopt'));
  });
});
