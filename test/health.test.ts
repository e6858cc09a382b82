// config.healthAddress and config.drainDelay: /livez and /readyz for probes that cannot reach
// a unix socket, and on SIGTERM a /readyz that fails at once while the workers keep serving
// for drainDelay, so a load balancer stops sending before the drain begins; a second stop
// signal during it means "now".
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveConfig } from '../src/config.js';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { get as httpGet } from './support/http.js';
import { eventually, fdCount, stopAll } from './support/process.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-health-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** GET `route` at `host:port`: its status and body. */
async function get(address: string, route: string): Promise<{ status: number; body: string }> {
  const at = address.lastIndexOf(':');
  const { status, body } = await httpGet(
    { host: address.slice(0, at), port: Number(address.slice(at + 1)) },
    { path: route, timeoutMs: 2_000 },
  );
  return { status, body };
}

test('healthAddress is checked like the other addresses', () => {
  const program = () => {};
  assert.throws(() => resolveConfig({ program, healthAddress: 'unix:/tmp/h.sock' }), {
    code: 'ERR_OVERSEER_INVALID_CONFIG',
    message: /config\.healthAddress must be a TCP address/,
  });
  assert.throws(() => resolveConfig({ program, drainDelay: -1 }), { code: 'ERR_OVERSEER_INVALID_CONFIG' });
  assert.equal(resolveConfig({ program, healthAddress: ':9090' }).healthAddress?.port, 9090);
});

test('/livez and /readyz on loopback; with drainDelay, SIGTERM fails /readyz at once and the workers serve on until the drain', async () => {
  const ipc = path.join(tmp, 'ctl.sock');
  const a = new AppProcess({
    overseer: { address: '127.0.0.1:0', workers: 2, ipcPath: ipc, healthAddress: ':0', drainDelay: 1_500 },
  });
  const port = await a.port();
  await a.nth('ready', 2);
  const status = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as { health: string };
  assert.match(status.health, /^127\.0\.0\.1:\d+$/, 'loopback when no interface is named');
  assert.deepEqual(await get(status.health, '/livez'), { status: 200, body: '{"ok":true}\n' });
  assert.deepEqual(await get(status.health, '/readyz'), { status: 200, body: '{"ok":true}\n' });
  assert.equal((await get(status.health, '/nope')).status, 404);

  a.child.kill('SIGTERM');
  const t0 = Date.now();
  await sleep(100);
  const failing = await get(status.health, '/readyz');
  assert.equal(failing.status, 503);
  assert.match(failing.body, /"stopping":true/);
  assert.equal((await get(status.health, '/livez')).status, 200, 'alive all the same');
  // The workers still serve, new connections included, for drainDelay.
  let served = 0;
  while (Date.now() - t0 < 1_200) {
    const r = await get(`127.0.0.1:${port}`, '/');
    if (r.status === 200) served++;
    await sleep(50);
  }
  assert.ok(served >= 15, `served ${served} requests during drainDelay`);
  assert.equal(a.count('exit'), 0, 'no worker was told to go before drainDelay');
  const { code } = await a.exited;
  assert.equal(code, 0);
  assert.ok(Date.now() - t0 >= 1_500, 'the drain began after drainDelay');
});

test('idle connections to the health endpoint are bounded and closed soon; a wrong route or method is a coded error', async (t) => {
  if (process.platform !== 'linux') return t.skip('counts fds in /proc');
  const ipc = path.join(tmp, 'idle.sock');
  const a = new AppProcess({ overseer: { address: '127.0.0.1:0', ipcPath: ipc, healthAddress: ':0' } });
  await a.port();
  await a.nth('ready', 1);
  const health = ((await ipcRequest(ipc, 'GET', '/overseer/status')).body as { health: string }).health;
  const at = health.lastIndexOf(':');
  const fds0 = fdCount(a.pid);
  // 300 connections that never send a byte.
  let closed = 0;
  const idle = Array.from({ length: 300 }, () => {
    const s = net.connect(Number(health.slice(at + 1)), health.slice(0, at));
    s.on('error', () => {});
    s.on('close', () => closed++);
    return s;
  });
  try {
    await sleep(1_000);
    const held = fdCount(a.pid) - fds0;
    console.log(`300 idle health connections: the master holds ${held} more fds`);
    assert.ok(held <= 40, `the master holds ${held} more fds for idle health connections`);
    // A probe still gets through: room is made for it by closing the oldest idle connection.
    assert.deepEqual(await get(health, '/livez'), { status: 200, body: '{"ok":true}\n' });
    // Each is closed within a few seconds (Node's default check runs every 30 s).
    for (let i = 0; i < 150 && closed < idle.length; i++) await sleep(100);
    assert.equal(closed, idle.length, `${closed} of ${idle.length} idle connections closed within 15 s`);
    assert.deepEqual(await get(health, '/readyz'), { status: 200, body: '{"ok":true}\n' });
  } finally {
    for (const s of idle) s.destroy();
  }
  const notFound = await get(health, '/nope');
  assert.equal(notFound.status, 404);
  assert.equal((JSON.parse(notFound.body) as { code: string }).code, 'ERR_OVERSEER_NOT_FOUND');
  const answer = await new Promise<string>((resolve) => {
    const s = net.connect(Number(health.slice(at + 1)), health.slice(0, at));
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
    s.end('POST /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  assert.match(answer, /^HTTP\/1\.1 405 /);
  assert.match(answer, /\r\nAllow: GET, HEAD\r\n/i);
  assert.match(answer, /"code":"ERR_OVERSEER_METHOD"/);
  a.child.kill('SIGTERM');
  await a.exited;
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`with drainDelay, a second ${signal} during it means "now": the workers are SIGKILLed and the master exits 1`, async () => {
    const ipc = path.join(tmp, `now-${signal}.sock`);
    const a = new AppProcess({
      overseer: { address: '127.0.0.1:0', workers: 2, ipcPath: ipc, healthAddress: ':0', drainDelay: 60_000 },
    });
    await a.nth('ready', 2);
    const { health } = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as { health: string };
    a.signal(signal);
    // The second signal once the first is being waited out (/readyz fails): two at once may be one.
    const failing = async () => ((await get(health, '/readyz')).status === 503 ? true : undefined);
    await eventually(failing, 10_000, '/readyz failing');
    a.signal(signal);
    const t0 = Date.now();
    const { code } = await a.waitExit(30_000);
    assert.equal(code, 1, 'a stop that SIGKILLed serving workers is a failure');
    assert.ok(Date.now() - t0 < 30_000, 'it did not wait out drainDelay');
    const stderr = a.stderr.join('\n');
    assert.match(stderr, /OVERSEER_EXIT_FAILURE/);
    assert.match(stderr, /was SIGKILLed before it had drained/);
  });
}
