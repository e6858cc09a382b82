// The recipes in examples/, each as its users write it with the real framework, restarted
// under load: nothing is lost, connections close with the program's own close codes, and
// every old worker drains and exits (none lingers until terminateTimeout).
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { io as ioClient } from 'socket.io-client';
import WebSocket from 'ws';
import { Example } from './support/example.js';
import { describeErrors, startLoad } from './support/load.js';
import { stopAll } from './support/process.js';
import { loopsThroughRestarts, restartsUnderLoad } from './support/restarts.js';
import { ownRuntimeDir } from './support/runtime-dir.js';

after(stopAll);

// Each in a runtime directory of its own: the examples share one default name (the
// repository's package.json's), and each runs until the end of this file.
const start = (file: string, opts?: ConstructorParameters<typeof Example>[1]): Example =>
  new Example(file, { ...opts, env: { XDG_RUNTIME_DIR: ownRuntimeDir(), ...opts?.env } });

for (const [name, file, opts] of [
  ['Express, app.listen(state.listener)', 'dist/examples/express/server.js', {}],
  ['Koa, state.serve(app)', 'dist/examples/koa/server.js', {}],
  ['a CommonJS app', 'examples/commonjs/server.cjs', {}],
  [
    'a TypeScript app under node --import tsx',
    'examples/typescript/server.ts',
    // tsx's cache off, as on a first run: tsx then starts esbuild's service process in the
    // master too, a child of the master that is not a worker (and must not count as one).
    { nodeArgs: ['--import', 'tsx'], env: { TSX_DISABLE_CACHE: '1' } },
  ],
] as const) {
  test(`${name}: 3 restarts under keep-alive load, 0 failed`, async () => {
    await restartsUnderLoad(start(file, opts));
  });
}

test('Fastify with its defaults (503 on closing): its own listen() drains, fastify.close() on gracefulShutdown sees no request after it began; onClose runs once per worker', async () => {
  const e = start('dist/examples/fastify/server.js');
  await restartsUnderLoad(e);
  assert.deepEqual(
    e.lines.filter((l) => l.startsWith('onClose ran')),
    ['onClose ran in worker 1', 'onClose ran in worker 2', 'onClose ran in worker 3'],
  );
});

test('HTTPS: 3 restarts under keep-alive load, 0 failed', async () => {
  await restartsUnderLoad(start('dist/examples/https/server.js'), { tls: true });
});

test('HTTP/2: streams in flight finish, each old session gets a GOAWAY, nothing is lost', async () => {
  const e = start('dist/examples/http2/server.js');
  const port = await e.port();
  await e.settle(1);
  let session: http2.ClientHttp2Session | undefined;
  let goaways = 0;
  const connect = (): http2.ClientHttp2Session => {
    const s = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    s.on('error', () => {});
    s.on('goaway', () => {
      goaways++;
      if (session === s) session = undefined; // the next stream opens a new session
    });
    return s;
  };
  let ok = 0;
  let refused = 0;
  const failures: string[] = [];
  const pids = new Set<string>();
  /** One request: 'ok', 'refused' (not processed: retried, as HTTP/2 clients do) or an error. */
  const attempt = (): Promise<string> =>
    new Promise((resolve) => {
      session ??= connect();
      const req = session.request({ ':path': '/' });
      let body = '';
      req.setEncoding('utf8');
      req.on('response', (h) => pids.add(String(h['x-pid'])));
      req.on('data', (d: string) => (body += d));
      req.on('end', () =>
        resolve(/^hello over HTTP\/2\.0/.test(body) ? 'ok' : `body ${JSON.stringify(body)}`),
      );
      req.on('error', (err: Error & { code?: string }) => {
        resolve(
          req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ? 'refused' : `${err.code}: ${err.message}`,
        );
      });
      req.end();
    });
  const one = async (): Promise<void> => {
    for (let tries = 0; tries < 3; tries++) {
      const r = await attempt();
      if (r === 'ok') {
        ok++;
        return;
      }
      if (r !== 'refused') {
        failures.push(r);
        return;
      }
      refused++; // it crossed a GOAWAY on the wire, unprocessed (RFC 9113 §8.7): retry
    }
    failures.push('refused three times');
  };
  await loopsThroughRestarts(e, one, { pids });
  session?.close();
  assert.deepEqual(failures, []);
  assert.ok(refused <= 8 * 3, `${refused} refused streams: more than were in flight at the GOAWAYs`);
  assert.ok(ok > 200, `${ok} streams`);
  assert.ok(goaways >= 3, `${goaways} GOAWAYs`);
  assert.ok(pids.size >= 4, `served by ${pids.size} workers`);
  assert.deepEqual(
    e.stderr.filter((l) => /Warning/.test(l)),
    [],
  );
});

test('WebSockets (ws): clients are closed with 1012 by the program, reconnect to the new worker, and HTTP loses nothing', async () => {
  const e = start('dist/examples/ws/server.js');
  const port = await e.port();
  await e.settle(1);
  const closes: number[] = [];
  const welcomes: string[] = [];
  const clients: WebSocket[] = [];
  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      ws.once('message', (m) => {
        welcomes.push(String(m));
        resolve();
      });
      ws.once('error', reject);
      ws.once('close', (code) => {
        closes.push(code);
        void open().catch(() => {}); // a client reconnects
      });
      clients.push(ws);
    });
  await Promise.all(Array.from({ length: 10 }, open));
  const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 60_000 });
  await e.restart();
  await e.settle(1);
  const deadline = Date.now() + 5_000;
  while (welcomes.length < 20 && Date.now() < deadline) await sleep(20);
  const r = await load.stop();
  for (const ws of clients) ws.removeAllListeners('close');
  for (const ws of clients) ws.terminate();
  assert.equal(r.failed, 0, describeErrors(r));
  assert.deepEqual(closes, Array(10).fill(1012), 'every client got the program’s own close code');
  assert.equal(welcomes.length, 20, 'every client reconnected');
  assert.ok(welcomes.slice(10).every((w) => w.startsWith('welcome from worker 2')));
});

test('SSE: the program ends its streams on gracefulShutdown, and clients reconnect to the new worker', async () => {
  const e = start('dist/examples/sse/server.js');
  const port = await e.port();
  await e.settle(1);
  const follow = (): Promise<{ text: string; ended: boolean }> =>
    new Promise((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/events', agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ text, ended: true }));
        res.on('error', () => resolve({ text, ended: false }));
      });
    });
  const streams = Array.from({ length: 5 }, follow);
  await sleep(300);
  const t0 = Date.now();
  await e.restart();
  const results = await Promise.all(streams);
  const took = Date.now() - t0;
  for (const r of results) {
    assert.equal(r.ended, true, 'ended cleanly, not aborted');
    assert.match(r.text, /^retry: 100\ndata: worker 1 /);
    assert.match(r.text, /event: bye\ndata: restarting\n\n$/);
  }
  assert.ok(took < 5_000, `streams ended ${took} ms after the restart began`);
  const again = follow();
  await sleep(200);
  await e.restart();
  assert.match((await again).text, /^retry: 100\ndata: worker 2 /);
  await e.settle(1);
});

test('socket.io with 2 workers and default transports (polling, then upgrade), sticky by client address: every client reconnects after each of 3 restarts', async () => {
  const e = start('dist/examples/socketio/server.js');
  const port = await e.port();
  await e.settle(2);
  let connectErrors = 0;
  const hellos: number[][] = [];
  const disconnects: string[] = [];
  const clients = Array.from({ length: 4 }, () => {
    const mine: number[] = [];
    hellos.push(mine);
    const c = ioClient(`http://127.0.0.1:${port}`, { reconnectionDelay: 50, forceNew: true });
    c.on('connect_error', () => connectErrors++);
    c.on('disconnect', (reason) => disconnects.push(reason));
    c.on('hello', (h: { pid: number }) => mine.push(h.pid));
    return c;
  });
  /** Until each client has had `n` hellos (one per connection), and so n - 1 reconnections. */
  const greeted = async (n: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (hellos.some((h) => h.length < n) && Date.now() < deadline) await sleep(20);
    assert.deepEqual(
      hellos.map((h) => h.length),
      Array(clients.length).fill(n),
      `every client connected ${n} times (disconnects: ${disconnects.join(', ')})`,
    );
  };
  /** Each client's emit comes back acked; after the upgrade, over its WebSocket. */
  const acked = async (): Promise<void> => {
    await sleep(300);
    const acks = await Promise.all(clients.map((c, i) => c.timeout(5_000).emitWithAck('ping', i)));
    assert.deepEqual(acks, [...clients.keys()]);
  };
  await greeted(1);
  await acked();
  assert.equal(new Set(hellos.flat()).size, 1, 'one client address, one worker');
  for (let r = 2; r <= 4; r++) {
    await e.restart();
    // The old workers let their clients go at once: nothing waits for upgradeGrace.
    await e.settle(2, 3_000);
    await greeted(r);
    await acked();
    assert.ok(
      clients.every((c) => c.connected),
      'all connected',
    );
    assert.ok(
      hellos.every((h) => new Set(h).size === h.length),
      'each client is on a new worker',
    );
  }
  assert.equal(connectErrors, 0, 'no "Session ID unknown": each client stays on one worker');
  assert.ok(
    disconnects.every((d) => d === 'transport close'),
    `clients lost their transport, the server did not end their sessions: ${disconnects.join(', ')}`,
  );
  for (const c of clients) c.close();
  await e.settle(2);
  assert.deepEqual(
    e.stderr.filter((l) => /Warning/.test(l)),
    [],
  );
});
