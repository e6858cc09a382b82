// The control socket: every route, its security, and garbage that must not hurt the master.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcLines, ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { rssKiB, stopAll } from './support/process.js';
import { RUNTIME_DIR } from './support/runtime-dir.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-ctl-'));
const sock = path.join(tmp, 'ctl.sock');
let app: AppProcess;
let port: number;

before(async () => {
  app = new AppProcess(
    { overseer: { address: '127.0.0.1:0', ipcPath: sock }, handler: true, probes: true },
    { nodeArgs: ['--expose-gc'] }, // for the master's memory probe
  );
  port = await app.port();
  await app.nth('ready', 1);
});
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function getWorker(urlPath: string): Promise<string> {
  return (await get(port, urlPath)).body;
}

/** Writes raw bytes to the control socket and collects what comes back until it closes. */
function raw(write: (s: net.Socket) => void | Promise<void>, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(sock);
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(out.slice(0, 200))}`));
    }, timeoutMs);
    s.setEncoding('utf8').on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('connect', () => void write(s));
  });
}

async function healthy(): Promise<void> {
  const r = await ipcRequest(sock, 'GET', '/overseer/status', 5_000);
  assert.equal(r.status, 200);
  assert.equal(await getWorker('/'), 'ok');
}

test('the socket file has mode 0600', () => {
  const st = fs.statSync(sock);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
});

test('GET /overseer/status has the plan fields and more', async () => {
  const { status, body } = await ipcRequest(sock, 'GET', '/overseer/status');
  assert.equal(status, 200);
  const s = body as Record<string, unknown>;
  assert.equal(s.pid, app.pid);
  assert.match(String(s.binHash), /^[0-9a-f]{64}$/);
  assert.equal(typeof s.workerId, 'number');
  assert.equal(s.slaveID, s.workerId);
  assert.equal(s.restarting, false);
  assert.ok('restartedAt' in s);
  assert.equal(typeof s.restarts, 'number');
  assert.equal(typeof s.crashes, 'number');
  assert.equal(s.ipcPath, sock);
  assert.match(String(s.version), /^\d+\.\d+\.\d+/);
  const workers = s.workers as { id: number; pid: number; state: string; startedAt: string }[];
  assert.equal(workers.length, 1);
  assert.equal(workers[0]!.state, 'ready');
  assert.equal(typeof workers[0]!.pid, 'number');
  assert.equal(s.fetcher, null);
});

test('POST /overseer/restart returns once the new workers are ready', async () => {
  const before = (await ipcRequest(sock, 'GET', '/overseer/status')).body as {
    workerId: number;
    restarts: number;
  };
  const r = await ipcRequest(sock, 'POST', '/overseer/restart');
  assert.equal(r.status, 200);
  assert.equal((r.body as { ok: boolean }).ok, true);
  const afterRestart = (await ipcRequest(sock, 'GET', '/overseer/status')).body as {
    workerId: number;
    restarts: number;
    restartedAt: string;
  };
  assert.ok(afterRestart.workerId > before.workerId);
  assert.equal(afterRestart.restarts, before.restarts + 1);
  assert.ok(afterRestart.restartedAt);
});

test('POST /overseer/trigger-update without a fetcher is a JSON 409', async () => {
  const r = await ipcRequest(sock, 'POST', '/overseer/trigger-update');
  assert.equal(r.status, 409);
  assert.deepEqual(r.body, {
    ok: false,
    error: 'overseer: no fetcher is configured',
    code: 'ERR_OVERSEER_NO_FETCHER',
  });
});

test('GET /overseer/metrics is Prometheus text', async () => {
  const r = await ipcRequest(sock, 'GET', '/overseer/metrics');
  assert.equal(r.status, 200);
  const text = String(r.body);
  for (const name of [
    'overseer_restarts_total',
    'overseer_crashes_total',
    'overseer_workers{state="ready"} 1',
    'overseer_fetches_total',
    'overseer_upgrades_total',
    'overseer_uptime_seconds',
  ]) {
    assert.ok(text.includes(name), `metrics lack ${name}`);
  }
  assert.match(text, /^# TYPE overseer_restarts_total counter$/m);
});

test('GET /overseer/events streams lifecycle events as NDJSON', async () => {
  const seen: Record<string, unknown>[] = [];
  const controller = new AbortController();
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const following = ipcLines(sock, '/overseer/events', (e) => seen.push(e), controller.signal, open);
  await opened; // subscribed: nothing after this point can be missed
  await ipcRequest(sock, 'POST', '/overseer/restart');
  const deadline = Date.now() + 15_000;
  // The old worker of this restart exits after it (an earlier test's may exit before).
  const done = (): boolean => {
    const r = seen.findIndex((e) => e.event === 'restart');
    return r >= 0 && seen.slice(r).some((e) => e.event === 'exit');
  };
  while (!done() && Date.now() < deadline) await sleep(20);
  controller.abort();
  await following;
  const kinds = seen.map((e) => e.event);
  for (const k of ['fork', 'ready', 'restart', 'exit']) assert.ok(kinds.includes(k), `no ${k} in ${kinds}`);
  assert.ok(seen.every((e) => typeof e.time === 'string'));
});

/** The master's heap, external and array buffer bytes after a full collection. */
async function masterMemory(): Promise<number> {
  const r = (await ipcRequest(sock, 'GET', '/probe/memory')).body as { bytes: number; gc: boolean };
  assert.equal(r.gc, true, 'the master runs with --expose-gc');
  return r.bytes;
}

async function eventsDropped(): Promise<number> {
  return ((await ipcRequest(sock, 'GET', '/overseer/status')).body as { eventsDropped: number })
    .eventsDropped;
}

test('a slow events reader does not grow the master without bound', async () => {
  // A reader that never reads, subscribed (its answer's head has come) before the storm.
  const s = net.connect(sock);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  s.write('GET /overseer/events HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => s.once('data', r));
  s.pause();
  const memory0 = await masterMemory();
  const dropped0 = await eventsDropped();
  // 32 MiB of events: a master that queued them for this reader would hold all of it.
  const n = 2_000;
  const bytes = 16 * 1024;
  const flooded = await ipcRequest(sock, 'POST', `/probe/flood?n=${n}&bytes=${bytes}`, 60_000);
  assert.equal(flooded.body, 'flooded');
  const grown = ((await masterMemory()) - memory0) / 2 ** 20;
  const dropped = (await eventsDropped()) - dropped0;
  // What fits in the socket's buffers reaches the reader; the rest is dropped, and counted.
  assert.ok(dropped > n / 2, `only ${dropped} of ${n} events were dropped for a reader that reads nothing`);
  assert.ok(
    grown < 8,
    `the master grew by ${grown.toFixed(1)} MiB for ${(n * bytes) / 2 ** 20} MiB of events`,
  );
  await healthy();
  s.destroy();
});

test('pipelined requests whose answers are never read do not grow the master without bound', async () => {
  // 32 connections, each 20,000 requests written at once (900 KB) and not an answer read.
  const memory0 = await masterMemory();
  const rss0 = rssKiB(app.pid);
  const clients = Array.from({ length: 32 }, () => {
    const s = net.connect(sock);
    s.on('error', () => {});
    s.pause();
    s.write('GET /overseer/metrics HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(20_000));
    return s;
  });
  let peak = 0;
  for (let i = 0; i < 20; i++) {
    await sleep(250);
    peak = Math.max(peak, rssKiB(app.pid) - rss0);
  }
  // What it holds for them while they hang (after a collection): the answers it queued.
  const held = ((await masterMemory()) - memory0) / 2 ** 20;
  for (const s of clients) s.destroy();
  const grown = peak / 1024;
  console.log(
    `pipelined, never read: the master holds ${held.toFixed(1)} MiB, its RSS grew by ${grown.toFixed(0)} MiB at most`,
  );
  assert.ok(held < 16, `the master holds ${held.toFixed(1)} MiB for connections that read nothing`);
  // Node parses what one read brought (64 KiB of requests) before the connection is closed.
  assert.ok(grown < 250, `the master's RSS grew by ${grown.toFixed(0)} MiB`);
  await healthy();
});

test('routes outside /overseer/ go to config.handler; unknown /overseer/ routes are a JSON 404', async () => {
  const handled = await ipcRequest(sock, 'GET', '/custom/thing?x=1');
  assert.equal(handled.status, 200);
  assert.equal(handled.body, 'handled GET /custom/thing?x=1');
  const missing = await ipcRequest(sock, 'GET', '/overseer/nope');
  assert.equal(missing.status, 404);
  assert.equal((missing.body as { code: string }).code, 'ERR_OVERSEER_NOT_FOUND');
});

test('a wrong method gets 405 with Allow', async () => {
  for (const [method, route, allow] of [
    ['POST', '/overseer/status', 'GET'],
    ['GET', '/overseer/restart', 'POST'],
    ['DELETE', '/overseer/trigger-update', 'POST'],
  ] as const) {
    const head = await raw((s) => {
      s.end(`${method} ${route} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    assert.match(head, /^HTTP\/1\.1 405/);
    assert.match(head, new RegExp(`\\r\\nAllow: ${allow}\\r\\n`, 'i'));
  }
});

test('a worker calling triggerUpdate() reaches the master over the socket', async () => {
  const body = JSON.parse(await getWorker('/trigger-update'));
  assert.equal(body.code, 'ERR_OVERSEER_NO_FETCHER'); // the master answered: it has no fetcher
});

test('garbage leaves the master healthy: random bytes, a 1 MiB header, a body too large', async () => {
  const junk = await raw((s) => {
    s.end(randomBytes(64 * 1024));
  });
  assert.match(junk, /^HTTP\/1\.1 400/);
  const big = await raw((s) => {
    s.end(`GET /overseer/status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1024 * 1024)}\r\n\r\n`);
  });
  assert.match(big, /^HTTP\/1\.1 431/);
  const body = await raw((s) => {
    s.end(
      `POST /overseer/restart HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024}\r\nConnection: close\r\n\r\n`,
    );
  });
  assert.match(body, /^HTTP\/1\.1 413/);
  await healthy();
});

test('a request split into single bytes over 10 s cannot hold the socket', async () => {
  const request = 'GET /overseer/status HTTP/1.1\r\nHost: x\r\n\r\n';
  const t0 = Date.now();
  const slow = raw(async (s) => {
    for (const ch of request) {
      if (s.destroyed) return;
      s.write(ch);
      await sleep(10_000 / request.length);
    }
  }, 20_000);
  await sleep(500);
  await healthy(); // others are served meanwhile
  const out = await slow;
  // Either answered or cut off by the headers timeout; never held past it.
  assert.ok(out === '' || /^HTTP\/1\.1 (200|408)/.test(out), JSON.stringify(out.slice(0, 80)));
  assert.ok(Date.now() - t0 < 15_000);
  await healthy();
});

test('200 concurrent connections leave the master healthy', async () => {
  const sockets = await Promise.all(
    Array.from(
      { length: 200 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(sock);
          s.on('error', () => {});
          s.once('connect', () => resolve(s));
          s.once('close', () => resolve(s));
        }),
    ),
  );
  const answers = await Promise.all(
    sockets.map(
      (s) =>
        new Promise<string>((resolve) => {
          let out = '';
          s.setEncoding('utf8').on('data', (d: string) => (out += d));
          s.on('close', () => resolve(out));
          if (!s.destroyed) s.end('GET /overseer/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          setTimeout(() => s.destroy(), 10_000);
        }),
    ),
  );
  const ok = answers.filter((a) => a.startsWith('HTTP/1.1 200')).length;
  assert.ok(ok >= 64, `only ${ok} of 200 answered`);
  await healthy();
});

test('a client running as another uid is refused before any byte is read', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to run a client as nobody');
  const runner = ['setpriv', 'runuser'].find((c) => spawnSync('which', [c]).status === 0);
  if (!runner) return t.skip('neither setpriv nor runuser is available');
  // Open the file mode up, so that only the peer-credential check stands in the way: the
  // socket's directory lies in this file's runtime directory, which nobody may not traverse.
  fs.chmodSync(RUNTIME_DIR, 0o711);
  fs.chmodSync(tmp, 0o755);
  fs.chmodSync(sock, 0o666);
  try {
    const client = `
      const s = require('net').connect(${JSON.stringify(sock)});
      let out = '';
      s.on('connect', () => s.write('GET /overseer/status HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
      s.on('data', (d) => out += d);
      s.on('error', (e) => out += 'error:' + e.code);
      s.on('close', () => { console.log(JSON.stringify({ uid: process.getuid(), out })); process.exit(); });
      setTimeout(() => { console.log(JSON.stringify({ uid: process.getuid(), out: 'held open' })); process.exit(); }, 5000);
    `;
    const args =
      runner === 'setpriv'
        ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', client]
        : ['-u', 'nobody', '--', process.execPath, '-e', client];
    const out = execFileSync(runner, args, { encoding: 'utf8', cwd: '/' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    assert.equal(result.uid, 65534);
    // Closed without a byte of answer (the client may see EPIPE/ECONNRESET writing to it).
    assert.match(result.out, /^(error:E[A-Z]+)?$/, `the master answered another uid: ${result.out}`);
    await app.until(
      () => app.stderr.some((l) => l.includes('refused a client running as uid 65534')),
      5_000,
      'the refusal log',
    );
    await healthy();
  } finally {
    fs.chmodSync(sock, 0o600);
    fs.chmodSync(tmp, 0o700);
    fs.chmodSync(RUNTIME_DIR, 0o700);
  }
});

test('the signal fallback: with the socket gone, triggerUpdate() in a worker sends the restart signal', async () => {
  const before = app.count('restart');
  fs.rmSync(sock); // the master keeps its listening fd; new clients get ENOENT
  const body = JSON.parse(await getWorker('/trigger-update'));
  assert.equal(body.result, 'signalled');
  await app.until(() => app.count('restart') > before, 10_000, 'a restart from the signal');
});
