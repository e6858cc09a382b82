// The control socket's HTTP API, made in the background (control/lazy-api.ts): prepare() makes
// it with no connection, a request sent before the API exists is answered, an API that fails to load is tried again at the next
// connection, and connections still waiting when the socket closes are ended. In-process sockets.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LazyApi } from '../src/control/lazy-api.js';

const listeners: net.Server[] = [];
after(() => {
  for (const l of listeners) l.close();
});

/** A listener on 127.0.0.1 whose connections go to `api`; resolves with its port. */
async function listen(api: LazyApi): Promise<number> {
  const listener = net.createServer();
  listeners.push(listener);
  api.serve(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as net.AddressInfo).port;
}

/** Writes one GET at once and resolves with what the server sent back before it closed. */
function rawGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end('GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    });
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
    });
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
  });
}

const answering = () => http.createServer((_req, res) => res.end('made'));

test('a request sent before the API is made is answered once it is', async () => {
  let made = 0;
  const api = new LazyApi(async () => {
    made++;
    await sleep(50); // the request is in the socket by now
    return answering();
  });
  const port = await listen(api);
  const [a, b] = await Promise.all([rawGet(port), rawGet(port)]);
  assert.match(a, /^HTTP\/1\.1 200 .*made$/s);
  assert.match(b, /^HTTP\/1\.1 200 .*made$/s);
  assert.equal(made, 1, 'one API for every connection');
  api.closeAllConnections();
});

test('prepare() makes the API before any connection, once', async () => {
  let made = 0;
  const api = new LazyApi(async () => {
    made++;
    return answering();
  });
  api.prepare();
  api.prepare();
  await sleep(20);
  assert.equal(made, 1, 'made without a connection, and once');
  const port = await listen(api);
  assert.match(await rawGet(port), /^HTTP\/1\.1 200 .*made$/s);
  assert.equal(made, 1);
  api.closeAllConnections();
});

test('an API that fails to load is tried again at the next connection', async () => {
  let tries = 0;
  const api = new LazyApi(async () => {
    if (++tries === 1) throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
    return answering();
  });
  const port = await listen(api);
  assert.equal(await rawGet(port), '', 'the first connection is closed unanswered');
  assert.match(await rawGet(port), /^HTTP\/1\.1 200 .*made$/s);
  assert.equal(tries, 2);
  api.closeAllConnections();
});

test('connections still waiting for the API when it closes are ended', async () => {
  let release: (s: http.Server) => void = () => {};
  const api = new LazyApi(() => new Promise((resolve) => (release = resolve)));
  const port = await listen(api);
  const got = rawGet(port);
  await sleep(50);
  api.closeAllConnections();
  release(answering());
  assert.equal(await got, '');
});
