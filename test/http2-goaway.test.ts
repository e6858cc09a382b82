// HTTP/2's graceful shutdown (RFC 9113 §6.8) as Node's own http2 client sees it: that client
// never retries a stream, so a stream the server refuses is a failed request. A draining worker
// first tells the client to stop opening streams (GOAWAY with the largest stream id), waits a
// round trip (a PING), and only then names the last stream it took: the streams that crossed the
// first GOAWAY on the wire are served, not refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Listener } from '../src/contract/listener.js';
import { makeServe } from '../src/worker/serve.js';
import { WorkerDrains } from '../src/worker/worker-drains.js';
import { Example } from './support/example.js';
import { repoPath } from './support/paths.js';
import { stopAll } from './support/process.js';
import { loopsThroughRestarts } from './support/restarts.js';
import { ownRuntimeDir } from './support/runtime-dir.js';

after(stopAll);

const MAX_STREAM_ID = 2 ** 31 - 1;
const HEADERS_FRAME = 1;
const DATA = 0;
const SETTINGS = 4;
const PING = 6;
const GOAWAY = 7;

/** An HTTP/2 server drained as a worker's state.serve() drains it. */
async function served(opts: { tls?: boolean; ms?: number; terminateTimeout?: number } = {}) {
  const controller = new AbortController();
  const listener: Listener = { host: '127.0.0.1', port: 0, address: '' };
  /** The paths of the requests the server has taken, as they arrive. */
  const received: string[] = [];
  const handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    received.push(req.url);
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? opts.ms ?? 0);
    const answer = setTimeout(() => res.end(`ok ${req.url}`), ms);
    res.on('close', () => clearTimeout(answer));
  };
  const tls = new URL('../../examples/tls/', import.meta.url); // dist/test → examples/tls
  const server = opts.tls
    ? http2.createSecureServer(
        { key: fs.readFileSync(new URL('key.pem', tls)), cert: fs.readFileSync(new URL('cert.pem', tls)) },
        handler,
      )
    : http2.createServer(handler);
  const drains = new WorkerDrains({
    retire: controller.signal,
    terminateTimeout: opts.terminateTimeout ?? 10_000,
    upgradeGrace: 5_000,
  });
  await makeServe([listener], drains)(server);
  const port = (server.address() as net.AddressInfo).port;
  const closed = new Promise<number>((resolve) => {
    const t0 = performance.now();
    server.once('close', () => resolve(performance.now() - t0));
  });
  return {
    server,
    port,
    controller,
    closed,
    received,
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
  };
}

/** One stream: resolves with its status and body, or with the error it failed with. */
function fetchStream(
  session: http2.ClientHttp2Session,
  path: string,
): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = session.request({ ':path': path });
    let status: number | undefined;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve({ status, body }));
    req.on('error', (err: Error & { code?: string }) =>
      resolve({ body, error: `${err.code} (rstCode ${req.rstCode})` }),
    );
    req.end();
  });
}

function goaways(session: http2.ClientHttp2Session): number[] {
  const ids: number[] = [];
  session.on('goaway', (_code: number, lastStreamID: number) => ids.push(lastStreamID));
  return ids;
}

test('h2c: a stream opened as the drain starts is served; the client sees the notice first, then the GOAWAY that names the stream', async () => {
  const { url, controller, closed } = await served({ ms: 50 });
  const client = http2.connect(url);
  client.on('error', () => {});
  const seen = goaways(client);
  assert.equal((await fetchStream(client, '/before')).body, 'ok /before');
  // The drain starts, and in the same turn the client opens a stream: it goes out before the
  // client has read anything the server sent, so it crosses the server's first GOAWAY.
  controller.abort();
  const crossing = fetchStream(client, '/crossing');
  assert.deepEqual(await crossing, { status: 200, body: 'ok /crossing' });
  await closed;
  client.close();
  assert.equal(seen[0], MAX_STREAM_ID, `GOAWAYs seen: ${seen}`);
  assert.equal(seen.at(-1), 3, `GOAWAYs seen: ${seen}`); // streams 1 and 3 were taken
});

/** A raw HTTP/2 client on a socket: the frames it reads, and a way to write its own. */
function rawClient(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const frames: { type: number; flags: number; stream: number; payload: Buffer }[] = [];
  let buf = Buffer.alloc(0);
  const onFrame: ((f: (typeof frames)[number]) => void)[] = [];
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const f = {
        type: buf[3] ?? -1,
        flags: buf[4] ?? 0,
        stream: buf.readUInt32BE(5) & MAX_STREAM_ID,
        payload: Buffer.from(buf.subarray(9, 9 + len)),
      };
      buf = buf.subarray(9 + len);
      frames.push(f);
      for (const fn of onFrame) fn(f);
    }
  });
  const frame = (type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer => {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    return Buffer.concat([head, payload]);
  };
  // The preface and an empty SETTINGS.
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(SETTINGS, 0, 0)]));
  return {
    socket,
    frames,
    onFrame: (fn: (f: (typeof frames)[number]) => void) => onFrame.push(fn),
    write: (type: number, flags: number, stream: number, payload?: Buffer) =>
      socket.write(frame(type, flags, stream, payload)),
    /** GET / on `stream`: HEADERS with END_STREAM | END_HEADERS, HPACK from the static table. */
    get: (stream: number) =>
      socket.write(frame(HEADERS_FRAME, 0x5, stream, Buffer.from([0x82, 0x86, 0x84, 0x01, 0x01, 0x78]))),
  };
}

test('h2c: a stream the client sent before it could read the first GOAWAY is served', async () => {
  const { port, controller, closed } = await served();
  const client = rawClient(port);
  client.onFrame((f) => {
    if (f.type === SETTINGS && !(f.flags & 1)) client.write(SETTINGS, 1, 0); // ack
    if (f.type === PING && !(f.flags & 1)) client.write(PING, 1, 0, f.payload); // ack
    // Stream 3 leaves as the first GOAWAY arrives: on the wire it crosses that GOAWAY.
    if (f.type === GOAWAY && !client.frames.slice(0, -1).some((g) => g.type === GOAWAY)) client.get(3);
  });
  client.get(1);
  const answered = (stream: number): boolean =>
    client.frames.some((f) => f.type === DATA && f.stream === stream && f.flags & 1);
  while (!answered(1)) await sleep(10);
  controller.abort();
  await closed;
  client.socket.destroy();
  const goaways = client.frames.filter((f) => f.type === GOAWAY).map((f) => f.payload.readUInt32BE(0));
  assert.equal(goaways[0], MAX_STREAM_ID, `GOAWAYs: ${goaways}`);
  assert.ok(
    answered(3),
    `stream 3 was not answered; frames: ${client.frames.map((f) => `${f.type}/${f.stream}`)}`,
  );
  assert.equal(goaways.at(-1), 3, `GOAWAYs: ${goaways}`);
});

test('h2c: a client that never answers the PING does not hold the drain: the last GOAWAY follows anyway', async () => {
  const { port, controller, closed } = await served({ terminateTimeout: 30_000 });
  // A raw client: the connection preface and its SETTINGS, then silence (it acks nothing).
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  /** The server's frames: a type, and for a GOAWAY its last stream id. */
  const frames: string[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 9) {
      const len = buf.readUIntBE(0, 3);
      if (buf.length < 9 + len) break;
      const type = buf[3];
      frames.push(type === GOAWAY ? `GOAWAY ${buf.readUInt32BE(9) & MAX_STREAM_ID}` : String(type));
      buf = buf.subarray(9 + len);
    }
  });
  socket.write(
    Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
    ]),
  );
  while (!frames.includes(String(SETTINGS))) await sleep(10); // the server's SETTINGS: its session is up
  controller.abort();
  const ms = await closed;
  socket.destroy();
  assert.ok(ms < 10_000, `the drain took ${Math.round(ms)} ms`);
  // The notice, its PING, then (no ack coming) the last GOAWAY; Node may repeat that one as it
  // tears the session down. (A PING that looks for a quiet round trip may come before.)
  const shown = frames.filter((f) => f.startsWith('GOAWAY') || f === String(PING));
  const notice = shown.indexOf(`GOAWAY ${MAX_STREAM_ID}`);
  assert.ok(notice >= 0, `frames: ${frames}`);
  assert.deepEqual(shown.slice(notice, notice + 3), [`GOAWAY ${MAX_STREAM_ID}`, String(PING), 'GOAWAY 0']);
});

test('TLS (h2 over ALPN): the drain lets the streams in flight finish and closes the session', async () => {
  const { url, controller, closed, received } = await served({ tls: true });
  const client = http2.connect(url, { rejectUnauthorized: false });
  client.on('error', () => {});
  const seen = goaways(client);
  assert.equal((await fetchStream(client, '/before')).body, 'ok /before');
  const inflight = fetchStream(client, '/slow?ms=300');
  while (!received.includes('/slow?ms=300')) await sleep(5); // in flight: the server has it
  controller.abort();
  assert.deepEqual(await inflight, { status: 200, body: 'ok /slow?ms=300' });
  await closed;
  client.close();
  assert.ok(seen.length > 0, 'no GOAWAY');
  assert.ok(seen.at(-1) === 3, `GOAWAYs seen: ${seen}`);
});

test('h2c under overseer: Node’s own http2 client, which never retries, loses no stream it sent through 3 restarts', async () => {
  const e = new Example('dist/test/support/fixtures/h2c.js', { env: { XDG_RUNTIME_DIR: ownRuntimeDir() } });
  assert.ok(fs.existsSync(repoPath('dist/test/support/fixtures/h2c.js')));
  const port = await e.port();
  await e.settle(1);
  let session: http2.ClientHttp2Session | undefined;
  let sessionGoaways = 0;
  const connect = (): http2.ClientHttp2Session => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    s.on('error', () => {});
    s.on('goaway', () => {
      sessionGoaways++;
      if (session === s) session = undefined; // the next stream opens a new session
    });
    return s;
  };
  let ok = 0;
  /** Streams that failed once on the wire: refused or reset by the server. */
  const failures: string[] = [];
  /**
   * Streams Node's client failed itself, their HEADERS never sent ('frameError'): opened in the
   * turn it read a GOAWAY, before it had processed it (as the answers ahead of it came in). The
   * drain spares them by sending its notice only after a quiet round trip (h2-shutdown.ts).
   */
  const unsent: string[] = [];
  const pids = new Set<string>();
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      session ??= connect();
      let req: http2.ClientHttp2Stream;
      try {
        req = session.request({ ':path': '/' });
      } catch (err) {
        failures.push(`request(): ${(err as Error & { code?: string }).code}`);
        session = undefined;
        resolve();
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('response', (h) => pids.add(String(h['x-pid'])));
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        if (/^hello over HTTP\/2\.0/.test(body)) ok++;
        else failures.push(`body ${JSON.stringify(body)}`);
        resolve();
      });
      let notSent = false;
      req.on('frameError', (type: number) => (notSent ||= type === HEADERS_FRAME));
      req.on('error', (err: Error & { code?: string }) => {
        (notSent ? unsent : failures).push(`${err.code} (rstCode ${req.rstCode})`);
        resolve();
      });
      req.end();
    });
  await loopsThroughRestarts(e, one, { pids });
  session?.close();
  console.log(
    `h2c restarts: ${ok} streams ok, ${failures.length} failed on the wire, ${unsent.length} never sent, ` +
      `${sessionGoaways} GOAWAYs, ${pids.size} workers`,
  );
  assert.deepEqual(failures, []);
  assert.deepEqual(unsent, []);
  assert.ok(ok > 200, `${ok} streams`);
  assert.ok(sessionGoaways >= 3, `${sessionGoaways} GOAWAYs`);
  assert.ok(pids.size >= 4, `served by ${pids.size} workers`);
  assert.deepEqual(
    e.stderr.filter((l) => /Warning/.test(l)),
    [],
  );
});
