// What a reload looks like to a node:cluster program's own event handlers: the idioms real code
// uses to fork again when a worker goes keep the count the program asked for, and throng (which
// re-forks on every 'disconnect') keeps its W workers under load. What the program does itself
// (kill(), disconnect()) stays node:cluster's.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import type { RestartResult } from '../src/master/events.js';
import { AppProcess } from './support/app.js';
import { freePort } from './support/http.js';
import { fixture } from './support/paths.js';
import { stopAll, TestProcess } from './support/process.js';
import { restartsUnderLoad } from './support/restarts.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cluster-reload-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Report {
  counts: number[];
  newIds: number[];
  returned: Array<{ id: number; listed: boolean; state: string; after: string }>;
  forkEvents: number;
  afterFailed: { ok: boolean; listed: number; serving: number[] };
  afterKill: number;
  afterDisconnect: number;
}

/** The `refork` scenario with one idiom: 2 workers, 3 reloads, a failed one, a kill, a disconnect. */
async function refork(idiom: string): Promise<Report> {
  const a = new AppProcess(
    {},
    {
      script: fixture('cluster/cjs.cjs'),
      args: ['refork', idiom],
      env: { FAIL_FLAG: path.join(tmp, `fail-${idiom}`) },
    },
  );
  const report = (await a.nth('report', 1, 60_000)) as unknown as Report;
  const timer = setTimeout(() => a.kill(), 10_000);
  const { code, signal } = await a.exited;
  clearTimeout(timer);
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${a.stderr.join('\n')}`);
  return report;
}

const reforking = {
  'fork on every exit': 'exit',
  'fork on every exit, after a delay': 'exitLater',
  "fork on every disconnect (throng's)": 'disconnect',
} as const;

for (const [name, idiom] of Object.entries(reforking)) {
  test(`${name}: reloads keep the count; a fork() for a retired worker returns its replacement`, async () => {
    const r = await refork(idiom);
    assert.deepEqual(r.counts, [2, 2, 2], 'workers after each reload');
    // Each fork() that answered a retired worker got the worker the reload put in its place.
    const forReloads = r.returned.filter((x) => x.after.startsWith('reload'));
    assert.equal(forReloads.length, 6);
    for (const x of forReloads) {
      assert.ok(x.listed && x.state === 'listening', JSON.stringify(x));
      assert.ok(r.newIds.includes(x.id), `${x.id} is one of the reloads' workers ${r.newIds}`);
    }
    // A reload whose new worker failed: a fork() for that one gets the worker still serving.
    assert.deepEqual([r.afterFailed.ok, r.afterFailed.listed], [false, 2]);
    const forFailed = r.returned.filter((x) => x.after === 'failed reload');
    assert.equal(forFailed.length, 1);
    assert.ok(r.afterFailed.serving.includes(forFailed[0]!.id) && forFailed[0]!.state === 'listening');
    // node:cluster's own: a worker killed, or disconnected by the program, is forked again as a new one.
    const own = r.returned.filter((x) => !x.after.includes('reload'));
    assert.deepEqual(
      own.map((x) => [x.after, x.state, x.listed]),
      [
        ['kill', 'none', true],
        ['disconnect', 'none', true],
      ],
    );
    assert.deepEqual([r.afterKill, r.afterDisconnect], [2, 2]);
    // 'fork' events: 2 asked, 2 per reload, the failed reload's 1, 2 the program's own; a fork()
    // that stands for a reload's worker announces nothing.
    assert.equal(r.forkEvents, 2 + 6 + 1 + 2);
  });
}

test('fork unless exitedAfterDisconnect: reloads keep the count; a disconnect() of its own is not refilled', async () => {
  const r = await refork('unlessExitedAfterDisconnect');
  assert.deepEqual(r.counts, [2, 2, 2], 'workers after each reload');
  assert.deepEqual([r.afterFailed.ok, r.afterFailed.listed], [false, 2]);
  assert.deepEqual(
    r.returned.map((x) => [x.after, x.state]),
    [['kill', 'none']],
  );
  assert.deepEqual([r.afterKill, r.afterDisconnect], [2, 1]);
  assert.equal(r.forkEvents, 2 + 6 + 1 + 1);
});

test('throng 5, with the one-line swap: W workers through 5 reloads under keep-alive load, 0 failed', async () => {
  const W = 2;
  const port = await freePort();
  const ipc = path.join(tmp, 'throng.sock');
  const app = new TestProcess(process.execPath, [fixture('cluster/throng.cjs')], {
    env: { WORKERS: String(W), PORT: String(port), IPC_PATH: ipc },
    label: 'throng',
  });
  await app.until(() => app.count('listening') >= W, 20_000, `${W} workers listening`);
  const workers = async (): Promise<number> =>
    ((await ipcRequest(ipc, 'GET', '/overseer/status')).body as { workers: unknown[] }).workers.length;
  const counts: number[] = [];
  await restartsUnderLoad(
    {
      port: async () => port,
      restart: async () => {
        const r = (await ipcRequest(ipc, 'POST', '/overseer/restart')).body as RestartResult;
        assert.deepEqual([r.ok, r.replaced], [true, W], JSON.stringify(r));
        return r;
      },
      settle: async (n) => {
        await app.settle(n, 10_000);
        // The master hears a worker's exit a moment after the process table shows it gone; a
        // worker too many (a fork the reload did not absorb) would stay.
        let count = await workers();
        for (let i = 0; i < 40 && count > n; i++) {
          await sleep(50);
          count = await workers();
        }
        counts.push(count);
      },
      stderr: app.stderr,
    },
    { restarts: 5, workers: W, minPids: W + 1, report: `throng, ${W} workers, 5 reloads` },
  );
  assert.deepEqual(counts, [W, W, W, W, W, W], 'workers before and after each reload');
  // The program's own view: W in cluster.workers once the last retired worker has gone, and
  // no fork beyond the reloads' own W each.
  const exits = app.events.filter((e) => e.event === 'exit');
  assert.equal(exits.length, 5 * W);
  assert.equal(exits.at(-1)?.listed, W);
  assert.equal(app.count('fork'), W + 5 * W);
});
