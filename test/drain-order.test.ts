// The order of a worker's stop: the drain begins when the worker is retired, and the program
// hears gracefulShutdown only once the drain has moved every plain HTTP/1 client off this
// worker (or after a bound), so that a framework's own close (Fastify's 503 on closing) never
// sees a request arrive after it began; `drained` resolves after both.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildState, type State } from '../src/worker/state.js';

/** A worker's State on a loopback listener, retired when the test aborts `retire`. */
function workerState(retire: AbortSignal, upgradeGrace = 5_000): State {
  return buildState({
    enabled: true,
    id: 'x',
    workerId: 1,
    listeners: [{ host: '127.0.0.1', port: 0, address: '127.0.0.1:0' }],
    retire,
    binPath: '',
    ipcPath: '',
    terminateTimeout: 10_000,
    upgradeGrace,
  });
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((r) => signal.addEventListener('abort', () => r(), { once: true }));
}

/** A program as Fastify is: once its close has begun, any request that arrives is refused (503). */
async function closingProgram(state: State) {
  let closing = false;
  const arrivedWhileClosing: string[] = [];
  const server = http.createServer((req, res) => {
    if (closing) arrivedWhileClosing.push(req.url ?? '');
    const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('ok'), ms);
  });
  let abortedAt = 0;
  state.gracefulShutdown.addEventListener('abort', () => {
    abortedAt = performance.now();
    closing = true;
    server.close();
  });
  await state.serve(server);
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    arrivedWhileClosing,
    abortedAt: () => abortedAt,
  };
}

test('gracefulShutdown aborts once the keep-alive clients are off this worker, not when the drain begins; drained after', async () => {
  const retire = new AbortController();
  const state = workerState(retire.signal);
  const p = await closingProgram(state);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const get = (path: string): Promise<string | undefined> =>
    new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: p.port, path, agent }, (res) => {
          res.resume().on('end', () => resolve(res.headers.connection));
        })
        .on('error', reject);
    });
  await Promise.all([get('/'), get('/'), get('/')]);
  let drainedAt = 0;
  void state.drained.then(() => (drainedAt = performance.now()));
  const t0 = performance.now();
  retire.abort();
  assert.equal(state.gracefulShutdown.aborted, false, 'not while keep-alive clients are still here');
  // The clients go on sending on their kept-alive connections; each is told Connection: close.
  assert.equal(await get('/?ms=100'), 'close');
  await sleep(50);
  assert.equal(state.gracefulShutdown.aborted, false);
  await aborted(state.gracefulShutdown);
  await state.drained;
  const abortedAfter = p.abortedAt() - t0;
  assert.ok(abortedAfter >= 900 && abortedAfter < 4_000, `gracefulShutdown after ${abortedAfter} ms`);
  assert.ok(drainedAt >= p.abortedAt(), 'drained resolves after gracefulShutdown');
  assert.deepEqual(p.arrivedWhileClosing, [], 'no request reached the program once its close had begun');
  agent.destroy();
});

test('gracefulShutdown aborts at once when no client is on this worker', async () => {
  const retire = new AbortController();
  const state = workerState(retire.signal);
  await closingProgram(state);
  const t0 = performance.now();
  retire.abort();
  await aborted(state.gracefulShutdown);
  assert.ok(performance.now() - t0 < 200);
  await state.drained;
});

test('a request that outlasts the bound does not hold gracefulShutdown back: it aborts after about 2 s, and never after half of upgradeGrace', async () => {
  for (const [upgradeGrace, min, max] of [
    // (Upper bounds with room for a busy host's late timers.)
    [5_000, 1_900, 4_000],
    [600, 250, 1_500],
  ] as const) {
    const retire = new AbortController();
    const state = workerState(retire.signal, upgradeGrace);
    const p = await closingProgram(state);
    const slow = fetch(`http://127.0.0.1:${p.port}/?ms=3000`).then((r) => r.text());
    await sleep(50);
    const t0 = performance.now();
    retire.abort();
    await aborted(state.gracefulShutdown);
    const ms = performance.now() - t0;
    assert.ok(ms >= min && ms < max, `upgradeGrace ${upgradeGrace}: gracefulShutdown after ${ms} ms`);
    assert.equal(await slow, 'ok', 'the request in flight still finishes');
    await state.drained;
  }
});
