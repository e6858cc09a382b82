// state.serve()'s drain on a real HTTP server: nothing in flight is lost, nothing is reset.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Listener } from '../src/contract/listener.js';
import { makeServe } from '../src/worker/serve.js';
import { WorkerDrains } from '../src/worker/worker-drains.js';
import { ROOT } from './support/paths.js';

/** serve() as a worker has it, with the drain's bounds. */
function serving(listeners: Listener[], signal: AbortSignal, terminateTimeout: number, upgradeGrace = 5_000) {
  return makeServe(listeners, new WorkerDrains({ retire: signal, terminateTimeout, upgradeGrace }));
}

async function served(terminateTimeout = 5_000) {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((req, res) => {
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    const answer = setTimeout(() => res.end('ok'), ms);
    res.on('close', () => clearTimeout(answer)); // a force-closed request leaves no timer behind
  });
  await serving([listener], controller.signal, terminateTimeout)(server);
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

test('an in-flight request finishes during the drain; its connection, quiet after it, is closed', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  const gone = new Promise((resolve) => socket.once('close', resolve));
  const pending = exchange(socket, '/?ms=400');
  await sleep(50);
  controller.abort();
  const head = await pending;
  assert.match(head, /^HTTP\/1\.1 200/);
  // No `close` on it: a request may be queued behind it (pipelined) that `close` would drop.
  assert.match(head, /connection: keep-alive/i);
  await gone;
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

test('a request that reached the worker while its event loop stalled is served, not reset as idle', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  await exchange(socket);
  controller.abort();
  await sleep(100);
  // The next request is in the kernel's buffer, and the worker's loop stalls (a GC pause, a
  // slow or emulated CPU) past the idle window: when the loop resumes, its timers run before
  // it reads the socket, and the drain must not take the unread request for idleness. (The
  // stall is in the check phase, so the next turn begins with the timers.)
  await new Promise((resolve) => setImmediate(resolve));
  const pending = exchange(socket);
  const stalled = Date.now();
  while (Date.now() - stalled < 400); // the loop stalls, well past the 250 ms idle window
  const head = await pending;
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
  const serve = serving([listener], controller.signal, 1_000);
  const a = http.createServer();
  await serve(a);
  await assert.rejects(serve(http.createServer()), { code: 'ERR_OVERSEER_LISTENER_IN_USE' });
  await assert.rejects(serving([], controller.signal, 1_000)(http.createServer()), {
    code: 'ERR_OVERSEER_NO_LISTENER',
  });
  controller.abort();
  await new Promise((r) => a.once('close', r));
});

/** A server with an 'upgrade' handler that keeps the socket, as ws does. */
async function upgrading(upgradeGrace: number) {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
  });
  await serving([listener], controller.signal, 5_000, upgradeGrace)(server);
  return { port: (server.address() as net.AddressInfo).port, controller, server };
}

/** A server whose 'upgrade' handler the test adds after serve(). */
async function upgradingOnly(upgradeGrace: number) {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((_req, res) => res.end('ok'));
  await serving([listener], controller.signal, 5_000, upgradeGrace)(server);
  return { port: (server.address() as net.AddressInfo).port, controller, server };
}

test('an upgraded connection (a WebSocket) is the program’s until upgradeGrace, then it is ended', async () => {
  const { port, controller } = await upgrading(600);
  const socket = await connect(port);
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
  await new Promise((r) => socket.once('data', r));
  const t0 = Date.now();
  controller.abort();
  const ended = await new Promise<number>((resolve) => socket.once('end', () => resolve(Date.now() - t0)));
  // Not destroyed as a silent connection on the drain's first ticks: ended (FIN) at the grace.
  assert.ok(ended >= 550 && ended < 1_500, `ended after ${ended} ms`);
  socket.destroy();
});

test('an event stream the program does not end is ended cleanly at upgradeGrace', async () => {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: hi\n\n');
  });
  await serving([listener], controller.signal, 5_000, 300)(server);
  const port = (server.address() as net.AddressInfo).port;
  const closed = new Promise((r) => server.once('close', r));
  const outcome = await new Promise<{ how: string; ms: number; text: string }>((resolve) => {
    http.get({ host: '127.0.0.1', port, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        if (!controller.signal.aborted) {
          const t0 = Date.now();
          controller.abort();
          res.on('end', () => resolve({ how: 'end', ms: Date.now() - t0, text }));
          res.on('aborted', () => resolve({ how: 'aborted', ms: Date.now() - t0, text }));
        }
      });
    });
  });
  assert.equal(outcome.how, 'end');
  assert.equal(outcome.text, 'data: hi\n\n');
  assert.ok(outcome.ms >= 250 && outcome.ms < 1_500, `ended after ${outcome.ms} ms`);
  await closed;
});

test("the program's own server.close() during the drain is gentle: an idle keep-alive connection still gets its request answered", async () => {
  const { server, port, controller, closed } = await served();
  const socket = await connect(port);
  await exchange(socket);
  controller.abort();
  server.close(); // as fastify.close() does, on gracefulShutdown
  await sleep(30);
  const head = await exchange(socket);
  assert.match(head, /^HTTP\/1\.1 200/);
  assert.match(head, /connection: close/i);
  await closed;
});

test('at terminateTimeout the drain warns, naming what was still open', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  try {
    const { port, controller, closed } = await served(500);
    const socket = await connect(port);
    socket.on('error', () => {});
    socket.write('GET /?ms=10000 HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(50);
    controller.abort();
    await closed;
    await sleep(10);
  } finally {
    process.off('warning', onWarning);
  }
  const w = warnings.find((x) => (x as Error & { code?: string }).code === 'OVERSEER_DRAIN_TIMEOUT');
  assert.ok(w, `warnings: ${warnings.map((x) => x.message).join(' | ')}`);
  assert.match(w.message, /terminateTimeout \(500 ms\) reached with 1 request\(s\) in flight still open/);
});

test('serve() takes a request handler or an app with callback(), and refuses anything else', async () => {
  const controller = new AbortController();
  const listeners: Listener[] = [
    { host: '127.0.0.1', port: 0, address: 'a' },
    { host: '127.0.0.2', port: 0, address: 'b' },
  ];
  const serve = serving(listeners, controller.signal, 1_000);
  const fromHandler = await serve((_req, res) => res.end('handler'));
  const fromApp = await serve(
    { callback: () => (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('app') },
    listeners[1],
  );
  for (const [server, body] of [
    [fromHandler, 'handler'],
    [fromApp, 'app'],
  ] as const) {
    const { port, address } = server.address() as net.AddressInfo;
    const got = await fetch(`http://${address}:${port}/`).then((r) => r.text());
    assert.equal(got, body);
  }
  for (const bad of [42, null, {}, 'app']) {
    await assert.rejects(serve(bad as never), (err: Error & { code?: string }) => {
      assert.ok(err instanceof TypeError);
      assert.equal(err.code, 'ERR_OVERSEER_SERVE_ARGUMENT');
      return true;
    });
  }
  controller.abort();
  await Promise.all([fromHandler, fromApp].map((s) => new Promise((r) => s.once('close', r))));
});

test('before a drain begins, nothing is added to a request: no request or upgrade listener, no wrapped emit, no listener on a response', async () => {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  /** How many 'close' and 'finish' listeners a response carries when the program sees it. */
  const seen: number[] = [];
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.push(res.listenerCount('close') + res.listenerCount('finish'));
    res.end('ok');
  };
  const bare = http.createServer(handler);
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  await fetch(`http://127.0.0.1:${(bare.address() as net.AddressInfo).port}/`).then((r) => r.text());
  bare.close();
  const server = http.createServer(handler);
  await serving([listener], controller.signal, 5_000)(server);
  await fetch(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`).then((r) => r.text());
  assert.equal(server.listenerCount('request'), 1, "only the program's request listener");
  assert.equal(server.listenerCount('upgrade'), 0, 'no upgrade listener while the program has none');
  assert.equal(Object.hasOwn(server, 'emit'), false, 'emit is not wrapped');
  assert.equal(seen.length, 2);
  assert.equal(seen[1], seen[0], 'a response carries no listener of the drain');
  controller.abort();
  await new Promise((r) => server.once('close', r));
});

/** The program's own server.close(cb), as a SIGTERM handler calls it: `cb`'s error and the 'close' events. */
function closeOf(server: net.Server): Promise<{ err: unknown; closes: number }> {
  let closes = 0;
  server.on('close', () => closes++);
  return new Promise((resolve) => {
    server.close((err) => {
      // Any second 'close' would come on the next turns.
      setTimeout(() => resolve({ err, closes }), 50);
    });
  });
}

test("the program's own server.close(cb) after the drain: cb gets no error, and 'close' has fired once", async () => {
  const { server, port, controller, closed } = await served();
  const socket = await connect(port);
  await exchange(socket);
  controller.abort();
  await closed;
  let closes = 1;
  server.on('close', () => closes++);
  const err = await new Promise((resolve) => server.close(resolve));
  await sleep(50);
  assert.equal(err, undefined);
  assert.equal(closes, 1, "no second 'close'");
});

test("the program's own server.close(cb) during the drain: cb gets no error once the drain has closed the server", async () => {
  const { server, port, controller } = await served();
  const socket = await connect(port);
  const pending = exchange(socket, '/?ms=200');
  await sleep(30);
  controller.abort();
  const t0 = Date.now();
  const { err, closes } = await closeOf(server);
  assert.equal(err, undefined);
  assert.equal(closes, 1);
  assert.match(await pending, /^HTTP\/1\.1 200/, 'the request in flight was answered');
  assert.ok(Date.now() - t0 >= 150, 'cb came once the server had closed, not before');
});

test("the program's own server.close(cb) before the drain closes as without overseer, and the drain still ends", async () => {
  const { server, port, controller } = await served();
  const socket = await connect(port);
  await exchange(socket);
  const { err, closes } = await closeOf(server);
  assert.equal(err, undefined);
  assert.equal(closes, 1);
  controller.abort(); // the drain of a server the program has closed: nothing to do, nothing said
  await sleep(50);
  assert.equal(closes, 1);
});

test('a WebSocket the program leaves open is closed with 1012 (Service Restart) at upgradeGrace; every client sees it', async () => {
  const { WebSocketServer, WebSocket } = await import('ws');
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((_req, res) => res.end('ok'));
  const wss = new WebSocketServer({ server }); // its 'upgrade' listener comes before the drain's
  wss.on('connection', (ws) => ws.send('hi'));
  await serving([listener], controller.signal, 5_000, 400)(server);
  const port = (server.address() as net.AddressInfo).port;
  const clients = await Promise.all(
    Array.from({ length: 3 }, () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      const code = new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
      // Wrapped: a promise resolved with a promise would wait for it.
      return new Promise<{ code: Promise<number> }>((resolve, reject) => {
        ws.once('message', () => resolve({ code }));
        ws.once('error', reject);
      });
    }),
  );
  const closed = new Promise((r) => server.once('close', r));
  const t0 = Date.now();
  controller.abort();
  const codes = await Promise.all(clients.map((c) => c.code));
  assert.deepEqual(codes, [1012, 1012, 1012]);
  assert.ok(Date.now() - t0 >= 350, 'at upgradeGrace, not before');
  await closed;
  wss.close();
});

test('a WebSocket server added after serve() is known too; an upgrade that is not a WebSocket gets a plain FIN', async () => {
  const { WebSocketServer, WebSocket } = await import('ws');
  const { port, controller, server } = await upgradingOnly(400);
  const wss = new WebSocketServer({ noServer: true });
  const onUpgrade = (req: http.IncomingMessage, socket: net.Socket, head: Buffer): void => {
    if (req.headers.upgrade === 'websocket') wss.handleUpgrade(req, socket, head, () => {});
    else socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
  };
  server.on('upgrade', onUpgrade);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const code = new Promise<number>((resolve) => ws.once('close', (c: number) => resolve(c)));
  await new Promise((r) => ws.once('open', r));
  const raw = await connect(port);
  raw.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
  await new Promise((r) => raw.once('data', r));
  let after = 0;
  raw.on('data', (d: Buffer) => (after += d.length));
  controller.abort();
  await new Promise((r) => raw.once('end', r));
  assert.equal(after, 0, 'no close frame on what is not a WebSocket');
  assert.equal(await code, 1012);
  raw.destroy();
  // With the program's listener gone, the drain's goes too: http treats Upgrade requests as before.
  server.off('upgrade', onUpgrade);
  assert.equal(server.listenerCount('upgrade'), 0);
});

test('an HTTP/2 event stream the program does not end is ended cleanly at upgradeGrace (streams read from the session when needed)', async () => {
  const http2 = await import('node:http2');
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
    stream.write('data: hi\n\n');
  });
  await serving([listener], controller.signal, 5_000, 300)(server as unknown as net.Server);
  const port = (server.address() as net.AddressInfo).port;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  const req = client.request({ ':path': '/' });
  req.setEncoding('utf8');
  let text = '';
  await new Promise<void>((resolve) =>
    req.on('data', (d: string) => {
      text += d;
      resolve();
    }),
  );
  const t0 = Date.now();
  controller.abort();
  const how = await new Promise<string>((resolve) => {
    req.on('end', () => resolve('end'));
    req.on('error', (err: Error) => resolve(`error ${err.message}`));
  });
  const ms = Date.now() - t0;
  assert.equal(how, 'end');
  assert.equal(text, 'data: hi\n\n');
  assert.ok(ms >= 250 && ms < 1_500, `ended after ${ms} ms`);
  client.close();
  await new Promise((r) => server.once('close', r));
});

test('TLS: a connection still in its handshake gets the silent grace, then is closed: it does not hold the drain', async () => {
  const https = await import('node:https');
  const tlsDir = path.join(ROOT, 'examples', 'tls');
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = https.createServer(
    {
      key: fs.readFileSync(path.join(tlsDir, 'key.pem')),
      cert: fs.readFileSync(path.join(tlsDir, 'cert.pem')),
    },
    (_req, res) => res.end('ok'),
  );
  await serving([listener], controller.signal, 8_000)(server);
  const port = (server.address() as net.AddressInfo).port;
  // A client that connected and sent nothing (no ClientHello): a scanner, a stalled phone.
  const silent = await connect(port);
  const gone = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  silent.on('error', () => {});
  const t0 = Date.now();
  controller.abort();
  const closedIn = await Promise.race([
    new Promise<number>((resolve) => server.once('close', () => resolve(Date.now() - t0))),
    sleep(6_000).then(() => -1),
  ]);
  assert.ok(closedIn >= 0, 'the server was not closed 6 s into the drain: the handshake held it');
  assert.ok(closedIn >= 1_500, `closed after ${closedIn} ms: no grace for the client to speak`);
  await gone;
});

test('HTTP/2: a stream still open at terminateTimeout is reset with CANCEL, so its client knows it was cut short', async () => {
  const http2 = await import('node:http2');
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    stream.write('part of a body that never ends');
  });
  await serving([listener], controller.signal, 600)(server as unknown as net.Server);
  const port = (server.address() as net.AddressInfo).port;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  const streams = [client.request({ ':path': '/a' }), client.request({ ':path': '/b' })];
  for (const req of streams) req.on('error', () => {});
  await Promise.all(streams.map((req) => new Promise((resolve) => req.once('data', resolve))));
  const serverClosed = new Promise((r) => server.once('close', r));
  controller.abort();
  const codes = await Promise.all(
    streams.map((req) => new Promise((resolve) => req.once('close', () => resolve(req.rstCode)))),
  );
  assert.deepEqual(codes, [http2.constants.NGHTTP2_CANCEL, http2.constants.NGHTTP2_CANCEL]);
  client.close();
  await serverClosed;
});

/** Everything `socket` receives until it closes. */
function readAll(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('error', () => {});
    socket.once('close', () => resolve(text));
  });
}

test('pipelined requests: those in flight when the drain begins and those sent during it are all answered; the last one says Connection: close', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  const all = readAll(socket);
  const send = (from: number): void => {
    for (let i = from; i < from + 5; i++) socket.write(`GET /?ms=${50 + i * 20} HTTP/1.1\r\nHost: x\r\n\r\n`);
  };
  send(0);
  await sleep(50);
  controller.abort();
  await sleep(50);
  send(5);
  const text = await all;
  const heads = text.split('\r\n\r\nok').slice(0, -1);
  assert.equal(heads.length, 10, `${heads.length} of 10 pipelined requests answered:\n${text}`);
  assert.ok(
    heads.slice(0, 9).every((h) => /connection: keep-alive/i.test(h)),
    'only the last one closes',
  );
  assert.match(heads[9]!, /connection: close/i);
  await closed;
});

test('a request still arriving is no idle connection: its second half, 1.5 s into the drain, is answered', async () => {
  const { port, controller, closed } = await served();
  const socket = await connect(port);
  const all = readAll(socket);
  assert.match(await exchange(socket), /keep-alive/i);
  controller.abort();
  await sleep(300);
  socket.write('GET /?n=late HTTP/1.1\r\n'); // a request whose headers come in two packets
  await sleep(1_200);
  socket.write('Host: x\r\n\r\n');
  const text = await all;
  assert.match(text, /^HTTP\/1\.1 200/, 'the first answer');
  assert.equal(text.split('HTTP/1.1 200').length - 1, 2, `the second request was not answered:\n${text}`);
  await closed;
});

test("a server that handles 'checkContinue' itself: its requests during the drain are told Connection: close too", async () => {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('checkContinue', (req, res) => {
    res.writeContinue();
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await serving([listener], controller.signal, 5_000)(server);
  const port = (server.address() as net.AddressInfo).port;
  const socket = await connect(port);
  const all = readAll(socket);
  controller.abort();
  await sleep(50);
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n');
  await sleep(100);
  socket.write('hi');
  const text = await all;
  assert.match(text, /HTTP\/1\.1 100 Continue/);
  assert.match(text, /HTTP\/1\.1 200 OK[\s\S]*connection: close/i);
});
