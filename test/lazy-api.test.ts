// The control socket's HTTP API (control/lazy-api.ts): prepare() loads its modules with no
// connection but makes no server, the first connection makes it, a request sent before the API
// exists is answered, an API that fails to load is tried again at the next connection, and
// connections still waiting when the socket closes are ended. In-process sockets.
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
const loaded = async () => {};

test('a request sent before the API is made is answered once it is', async () => {
  let made = 0;
  const api = new LazyApi(async () => {
    made++;
    await sleep(50); // the request is in the socket by now
    return answering();
  }, loaded);
  const port = await listen(api);
  const [a, b] = await Promise.all([rawGet(port), rawGet(port)]);
  assert.match(a, /^HTTP\/1\.1 200 .*made$/s);
  assert.match(b, /^HTTP\/1\.1 200 .*made$/s);
  assert.equal(made, 1, 'one API for every connection');
  api.closeAllConnections();
});

test('prepare() loads the API before any connection, and the first connection makes it, once', async () => {
  let made = 0;
  let loads = 0;
  const api = new LazyApi(
    async () => {
      made++;
      return answering();
    },
    async () => {
      loads++;
    },
  );
  api.prepare();
  await sleep(20);
  assert.equal(loads, 1, 'loaded without a connection');
  assert.equal(made, 0, 'no server (and no node:http) before a client comes');
  const port = await listen(api);
  const [a, b] = await Promise.all([rawGet(port), rawGet(port)]);
  assert.match(a, /^HTTP\/1\.1 200 .*made$/s);
  assert.match(b, /^HTTP\/1\.1 200 .*made$/s);
  assert.equal(made, 1, 'one server for every connection');
  api.closeAllConnections();
});

test('an API that fails to load is tried again at the next connection', async () => {
  let tries = 0;
  const api = new LazyApi(async () => {
    if (++tries === 1) throw Object.assign(new Error('too many open files'), { code: 'EMFILE' });
    return answering();
  }, loaded);
  const port = await listen(api);
  assert.equal(await rawGet(port), '', 'the first connection is closed unanswered');
  assert.match(await rawGet(port), /^HTTP\/1\.1 200 .*made$/s);
  assert.equal(tries, 2);
  api.closeAllConnections();
});

test('connections still waiting for the API when it closes are ended', async () => {
  let release: (s: http.Server) => void = () => {};
  const api = new LazyApi(() => new Promise((resolve) => (release = resolve)), loaded);
  const port = await listen(api);
  const got = rawGet(port);
  await sleep(50);
  api.closeAllConnections();
  release(answering());
  assert.equal(await got, '');
});
