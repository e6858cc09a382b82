// The Windows named-pipe server and client: connected pipes become net.Sockets that carry
// data both ways, many clients at once; close() cancels pending accepts; the first-instance
// flag and the DACL are enforced (real Windows only: Wine enforces neither). Windows only;
// elsewhere every test is skipped.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import type { PipeServer } from '../src/os/native.js';
import { fixture } from './support/paths.js';
import { node } from './support/process.js';
import { onWindows, pipeName, windowsOnly as skip, win } from './support/windows.js';

/** Why an enforcement test cannot run here, or false. */
function needsEnforcement(what: string): string | false {
  if (!onWindows) return 'Windows only';
  return win().isWine()
    ? `Wine does not enforce ${what}; verified on real Windows (windows-latest) only`
    : false;
}

function socketOf(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}

/**
 * A server that answers each newline-terminated message with `echo:<message>` and ends.
 * (Named pipes have no half-close: a pipe end that libuv shuts down is closed for both
 * directions, so the protocol cannot use end() as the request's terminator.)
 */
function echoServer(name: string, sockets: net.Socket[] = []): { server: PipeServer; errors: Error[] } {
  const errors: Error[] = [];
  const server = win().pipeListen(name, undefined, (err, fd) => {
    if (err) {
      errors.push(err);
      return;
    }
    const socket = socketOf(fd!);
    sockets.push(socket);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
      const newline = received.indexOf('\n');
      if (newline >= 0) socket.end(`echo:${received.slice(0, newline)}`);
    });
    socket.on('error', (e) => errors.push(e));
  });
  return { server, errors };
}

/** Sends `message` and a newline; resolves with everything the server sent back before it ended. */
function exchange(socket: net.Socket, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
    socket.write(`${message}\n`);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('windows named pipes: data', { skip, timeout: 60_000 }, () => {
  test('a connected pipe is a net.Socket on both ends: data flows both ways', async (t) => {
    const name = pipeName();
    const { server, errors } = echoServer(name);
    t.after(() => server.close());
    const fd = await win().pipeConnect(name, 5000);
    assert.equal(typeof fd, 'number');
    const reply = await withTimeout(exchange(socketOf(fd), 'hello'), 10_000, 'echo');
    assert.equal(reply, 'echo:hello');
    assert.deepEqual(errors, []);
  });

  test('node:net clients connect to it too', async (t) => {
    const name = pipeName();
    const { server, errors } = echoServer(name);
    t.after(() => server.close());
    const socket = net.connect(name);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    assert.equal(await withTimeout(exchange(socket, 'from net'), 10_000, 'echo'), 'echo:from net');
    assert.deepEqual(errors, []);
  });

  test('20 concurrent clients all complete, and large payloads survive', async (t) => {
    const name = pipeName();
    const { server, errors } = echoServer(name);
    t.after(() => server.close());
    const big = 'x'.repeat(256 * 1024);
    const replies = await withTimeout(
      Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const fd = await win().pipeConnect(name, 10_000);
          const message = i % 5 === 0 ? `${i}:${big}` : `client ${i}`;
          const reply = await exchange(socketOf(fd), message);
          assert.equal(reply, `echo:${message}`);
          return i;
        }),
      ),
      30_000,
      '20 clients',
    );
    assert.equal(replies.length, 20);
    assert.deepEqual(errors, []);
  });

  test('with a zero timeout a connect is a single attempt: an fd, or EBUSY', async (t) => {
    const name = pipeName();
    const { server } = echoServer(name);
    t.after(() => server.close());
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        win()
          .pipeConnect(name, 0)
          .catch((e) => e),
      ),
    );
    for (const r of results) {
      if (typeof r === 'number') socketOf(r).destroy();
      else assert.equal((r as NodeJS.ErrnoException).code, 'EBUSY', String(r));
    }
    assert.ok(
      results.some((r) => typeof r === 'number'),
      'at least one connected',
    );
  });
});

describe('windows named pipes: close', { skip, timeout: 60_000 }, () => {
  test('close() cancels the pending accept and frees the name at once; twice is harmless', async () => {
    const name = pipeName();
    const server = win().pipeListen(name, undefined, () => assert.fail('no client connected'));
    const started = Date.now();
    server.close();
    assert.ok(Date.now() - started < 2000, 'close returned promptly');
    server.close();
    server.ref();
    server.unref();
    assert.throws(() => server.security(), { code: 'EBADF' });
    await assert.rejects(win().pipeConnect(name, 200), { code: 'ENOENT' });
    // The name is free: a new first instance may take it.
    win()
      .pipeListen(name, undefined, () => {})
      .close();
  });

  test('close() while clients are connecting: every client settles, nothing crashes', async () => {
    const name = pipeName();
    const sockets: net.Socket[] = [];
    const { server } = echoServer(name, sockets);
    const clients = Array.from({ length: 10 }, () =>
      win()
        .pipeConnect(name, 2000)
        .then((fd) => exchange(socketOf(fd), 'racing').catch((e: Error) => e))
        .catch((e: NodeJS.ErrnoException) => e),
    );
    await new Promise((resolve) => setImmediate(resolve));
    server.close();
    const results = await withTimeout(Promise.all(clients), 20_000, 'clients after close');
    for (const r of results) {
      if (typeof r === 'string') assert.ok(r === 'echo:racing' || r === '', `reply: ${r}`);
      else assert.equal(typeof (r as NodeJS.ErrnoException).code, 'string', String(r));
    }
    for (const s of sockets) s.destroy();
  });

  test('a listening server keeps the process alive; unref() lets it exit; exit while listening is clean', async () => {
    for (const mode of ['unref', 'exit', 'worker']) {
      const child = node(fixture('windows-pipe-exit.js'), [mode, pipeName()], { label: mode });
      try {
        const { code } = await child.waitExit(30_000);
        assert.equal(code, 0, `${mode}: ${child.describe()}`);
        await child.line(/fixture done/, 0, 5_000);
      } finally {
        child.kill();
      }
    }
  });
});

describe('windows named pipes: enforcement', { timeout: 60_000 }, () => {
  test('a second server on the same name is EADDRINUSE (FILE_FLAG_FIRST_PIPE_INSTANCE)', {
    skip: needsEnforcement('FILE_FLAG_FIRST_PIPE_INSTANCE'),
  }, (t) => {
    const name = pipeName();
    const server = win().pipeListen(name, undefined, () => {});
    t.after(() => server.close());
    assert.throws(
      () =>
        win()
          .pipeListen(name, undefined, () => {})
          .close(),
      {
        code: 'EADDRINUSE',
        syscall: 'CreateNamedPipeW',
      },
    );
  });

  test('a DACL without us refuses our connection with EACCES', {
    skip: needsEnforcement('pipe DACLs'),
  }, async (t) => {
    const name = pipeName();
    const server = win().pipeListen(name, 'D:P(A;;FA;;;SY)', () => assert.fail('nobody may connect'));
    t.after(() => server.close());
    await assert.rejects(win().pipeConnect(name, 1000), { code: 'EACCES', syscall: 'CreateFileW' });
  });
});
