// state.serve()'s drain on a real HTTP server: nothing in flight is lost, nothing is reset.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Listener } from '../src/contract/listener.js';
import { makeServe } from '../src/worker/serve.js';

async function served(terminateTimeout = 5_000) {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('ok'), ms);
  });
  await makeServe([listener], controller.signal, terminateTimeout)(server);
  const port = (server.address() as net.AddressInfo).port;
  const closed = new Promise<number>((resolve) => {
    const t0 = Date.now();
    server.once('close', () => resolve(Date.now() - t0));
  });
  return { server, port, controller, closed };
}

/** One raw HTTP/1.1 exchange on an open socket; resolves with the response head. */
function exchange(socket: net.Socket, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString();
      if (/\r\n\r\nok$/.test(buf)) {
        socket.off('data', onData);
        resolve(buf);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

test('an in-flight request finishes during the drain and is told Connection: close', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  const pending = exchange(socket, '/?ms=400');
  await sleep(50);
  controller.abort();
  const head = await pending;
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /connection: close/i);
  assert.ok((await closed) >= 300);
});

test('a connection accepted but silent gets a grace to send its request', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  await sleep(20);
  controller.abort();
  await sleep(300); // longer than the idle timeout for connections that served requests
  const head = await exchange(socket);
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /connection: close/i);
  await closed;
});

test('an idle keep-alive connection can still send one more request just after the drain starts', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  assert.match(await exchange(socket), /keep-alive/i);
  controller.abort();
  await sleep(30);
  const head = await exchange(socket);
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /connection: close/i);
  await closed;
});

test('idle keep-alive connections are closed after the idle window, not at once', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  await exchange(socket);
  controller.abort();
  const ms = await closed;
  assert.ok(ms >= 200 && ms < 2_000, `closed after ${ms} ms`);
  if (!socket.destroyed) await new Promise((r) => socket.once('close', r));
});

test('what is left at terminateTimeout is force-closed', async () => {
  const { port, controller, closed } = await served(500);
  const socket = await connect(port);
  socket.on('error', () => {});
  socket.write('GET /?ms=10000 HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(50);
  controller.abort();
  const ms = await closed;
  assert.ok(ms >= 450 && ms < 2_000, `closed after ${ms} ms`);
});

test('serve() refuses a second server on the same listener and reports a missing one', async () => {
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const controller = new AbortController();
  const serve = makeServe([listener], controller.signal, 1_000);
  const a = http.createServer();
  await serve(a);
  await assert.rejects(serve(http.createServer()), { code: 'ERR_OVERSEER_LISTENER_IN_USE' });
  await assert.rejects(makeServe([], controller.signal, 1_000)(http.createServer()), {
    code: 'ERR_OVERSEER_NO_LISTENER',
  });
  controller.abort();
  await new Promise((r) => a.once('close', r));
});
