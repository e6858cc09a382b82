// config.healthAddress and config.drainDelay: /livez and /readyz for probes that cannot reach
// a unix socket, and on SIGTERM a /readyz that fails at once while the workers keep serving
// for drainDelay, so a load balancer stops sending before the drain begins.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveConfig } from '../src/config.js';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './helpers/app.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-health-'));
const apps: AppProcess[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function get(address: string, route: string): Promise<{ status: number; body: string }> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const host = address.slice(0, address.lastIndexOf(':'));
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: route, agent: false, timeout: 2_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
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
  apps.push(a);
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
