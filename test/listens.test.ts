// Listen routing follows what the app serves, and the master stays bounded whatever a worker
// asks (issue #20, rows 4, 5 and 7). A new worker is ready once it listens on what its
// predecessor serves of what it served at its start: a port opened on first use, or closed
// since, is not waited for, under `overseer run` (restarts and an upgrade) and overseer/cluster
// (reloads). A worker that forges 'listening' messages is killed with a warning, and the
// master's memory stays where it was; one that asks for more listens than the bound gets
// Node-style errors with a code, and the sockets it had are closed once it is gone.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { fixture } from './support/paths.js';
import { fdCount, rssKiB, stopAll, waitGone } from './support/process.js';
import { Run } from './support/run.js';

const skip = process.platform !== 'linux' && 'Linux only: reads /proc';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-listens-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Waits until the master lists `n` addresses (a socket no worker holds is closed a few seconds after). */
async function addresses(r: Run, n: number, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = (await r.status()).addresses as string[];
    if (listed.length === n || Date.now() > deadline) return listed;
    await sleep(100);
  }
}

/** The port a "<name> listening on 127.0.0.1:PORT" line names, from line `from` on. */
async function listeningPort(r: Run, name: string, from = 0): Promise<number> {
  return Number((await r.line(new RegExp(`^${name} on 127\\.0\\.0\\.1:(\\d+)`), from))[1]);
}

describe('readiness follows what the app serves', { skip }, () => {
  test('overseer run: a port opened on first use does not hold up a restart or an upgrade, open or closed', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'lazy-'));
    const script = path.join(dir, 'app.cjs');
    const next = path.join(dir, 'next.cjs');
    const v1 = fs.readFileSync(fixture('run/lazy.cjs'), 'utf8');
    fs.writeFileSync(script, v1);
    const r = new Run(
      script,
      ['--ready-timeout', '3000', '--fetch-file', next, '--fetch-interval', '60000'],
      {
        PORT: '0',
      },
    );
    const port = await listeningPort(r, 'listening');
    await r.ready(1);
    // The debug port opens on first use: restart while it is open.
    await get(port, '/open');
    await r.restart();
    assert.match((await get(port)).body, /^main v1 /);
    // The new worker opens it too, and closes it: restart again.
    const second = Number((await get(port, '/open')).body.split(' ')[1]);
    assert.match((await get(second)).body, /^second /);
    assert.equal((await get(port, '/close')).body, 'closed\n');
    await r.restart();
    // An upgrade while the new version's predecessor has it open.
    await get(port, '/open');
    fs.writeFileSync(next, v1.replace("const VERSION = 'v1'", "const VERSION = 'v2'"));
    const up = (await ipcRequest(r.socket, 'POST', '/overseer/trigger-update', 60_000)).body as {
      result: string;
    };
    assert.equal(up.result, 'upgraded', JSON.stringify(up));
    assert.match((await get(port)).body, /^main v2 /);
  });

  test('overseer run: a port the app still serves from its start is waited for; one it closed is not', async () => {
    const flag = path.join(tmp, 'second-at-start');
    fs.writeFileSync(flag, 'yes');
    const r = new Run('lazy.cjs', ['--ready-timeout', '2000'], { PORT: '0', SECOND_FILE: flag });
    const port = await listeningPort(r, 'listening');
    await listeningPort(r, 'second listening');
    await r.ready(1);
    fs.writeFileSync(flag, 'no'); // the next version serves one port only
    const waited = await r.restartResult();
    assert.deepEqual([waited.ok, waited.code], [false, 'ERR_OVERSEER_READY_TIMEOUT']);
    assert.equal((await get(port, '/close')).body, 'closed\n');
    await r.restart();
    assert.equal((await addresses(r, 1)).length, 1, 'the closed port is closed in the master too');
  });

  test('overseer/cluster: a reload does not wait for a port opened on first use, nor for one closed', async () => {
    const flag = path.join(tmp, 'cluster-second');
    fs.writeFileSync(flag, '');
    const a = new AppProcess(
      {},
      { script: fixture('cluster/esm.js'), args: ['lazy'], env: { SECOND_FLAG: flag } },
    );
    const report = await a.nth('report', 1, 30_000);
    assert.deepEqual(report.opened, { ok: true }, 'with the third port open');
    assert.deepEqual(report.closed, { ok: true }, 'with the second port closed');
    assert.match(String(report.body), /^main \d+/);
    await a.stop();
  });
});

describe('a worker cannot make its master show what it does not listen on', { skip }, () => {
  test("overseer run: status shows where the master's own sockets listen, whatever a worker says", async () => {
    const r = new Run('hostile.cjs', [], { PORT: '0' });
    const port = await listeningPort(r, 'listening');
    await r.ready(1);
    await get(port, '/lie');
    await r.line(/"event":"lied"/);
    // Its 'listening' is taken (the key was routed to it): it says which socket listens, no more.
    let listed: string[] = [];
    for (const end = Date.now() + 10_000; Date.now() < end; await sleep(100)) {
      listed = (await r.status()).addresses as string[];
      if (listed.length === 2 && !listed.some((a) => a.startsWith('tcp:'))) break;
    }
    const other = listed.filter((a) => a !== `127.0.0.1:${port}`);
    assert.equal(listed.length, 2, JSON.stringify(listed));
    assert.equal(other.length, 1, JSON.stringify(listed));
    assert.match(other[0]!, /^127\.0\.0\.1:\d+$/, JSON.stringify(listed));
    // The master's socket is there: the kernel takes a connection to it (queued; nobody accepts).
    const socket = net.connect(Number(other[0]!.split(':')[1]), '127.0.0.1');
    await once(socket, 'connect');
    socket.destroy();
    assert.equal(r.stderr.filter((l) => l.includes('OVERSEER_WORKER_CONTRACT')).length, 0);
  });
});

describe('a worker cannot make its master keep what it does not serve', { skip }, () => {
  test("forged 'listening' messages: the worker is killed with a warning, the master stays bounded and restarts", async () => {
    const r = new Run('hostile.cjs', ['--ready-timeout', '5000'], { PORT: '0' });
    const port = await listeningPort(r, 'listening');
    await r.ready(1);
    await r.restart(); // warm: what a restart creates in the master exists before the baseline
    await r.settle(1);
    const [forger] = r.workers();
    const rss0 = rssKiB(r.pid);
    const fds0 = fdCount(r.pid);
    await get(port, '/forge');
    const warning = await r.until(
      () => r.stderr.find((l) => l.includes('OVERSEER_WORKER_CONTRACT')),
      20_000,
      'the warning',
    );
    assert.match(
      warning,
      new RegExp(`pid ${forger}\\b.*a 'listening' for "tcp:127\\.0\\.0\\.1:0", which it was not routed`),
    );
    await waitGone(forger!, 10_000);
    await r.until(() => r.workers().some((p) => p !== forger), 10_000, 'its replacement');
    await r.ready(1);
    await r.restart();
    await r.settle(1); // the restart's old worker gone, with its pipes and channel
    assert.match((await get(port)).body, /^main /);
    const rss1 = rssKiB(r.pid);
    // The old worker's pipes and channel close as the master reads their ends, a turn or more
    // after the process is gone (later on a busy host): a leak is what is still open after that.
    let fds1 = fdCount(r.pid);
    for (let i = 0; i < 50 && fds1 > fds0 + 2; i++) {
      await sleep(100);
      fds1 = fdCount(r.pid);
    }
    console.log(`forged 'listening' x300000: master RSS ${rss0} -> ${rss1} KiB, fds ${fds0} -> ${fds1}`);
    assert.ok(rss1 < rss0 + 20 * 1024, `master RSS grew by ${rss1 - rss0} KiB`);
    assert.ok(fds1 <= fds0 + 2, `master fds ${fds0} -> ${fds1}`);
  });

  test('500 listens from one worker: 64 are routed, the rest fail with a code, and the sockets go with the worker', async () => {
    // 500 stays inside the channel's burst of contract messages, so the listen bound is what it meets.
    const r = new Run('hostile.cjs', ['--ready-timeout', '5000'], { PORT: '0', COUNT: '500' });
    const port = await listeningPort(r, 'listening');
    await r.ready(1);
    await r.restart(); // warm, as above
    await r.settle(1);
    const fds0 = fdCount(r.pid);
    await get(port, '/many');
    const many = await r.nth('many', 1, 30_000);
    const fds1 = fdCount(r.pid);
    // Its main server is one of its 64 routed addresses.
    assert.deepEqual([many.ok, many.errors], [63, { ERR_OVERSEER_LISTEN_LIMIT: 500 - 63 }]);
    assert.ok(fds1 <= fds0 + 63 + 2, `master fds ${fds0} -> ${fds1}`);
    assert.equal(((await r.status()).addresses as string[]).length, 64);
    // Its successor serves the main port only: once the old worker is gone, so are its sockets.
    await r.restart();
    await r.settle(1);
    const fds2 = await r.until(
      () => {
        const n = fdCount(r.pid);
        return n <= fds0 + 2 ? n : undefined;
      },
      15_000,
      'the sockets closed',
    );
    console.log(`500 listens: master fds ${fds0} -> ${fds1} while it runs -> ${fds2} once it is gone`);
    assert.equal((await addresses(r, 1)).length, 1);
    assert.match((await get(port)).body, /^main /);
  });
  test('3000 listens at once from one worker: a flood, the worker is killed and its sockets go', async () => {
    const r = new Run('hostile.cjs', ['--ready-timeout', '5000'], { PORT: '0' });
    const port = await listeningPort(r, 'listening');
    await r.ready(1);
    await r.restart(); // warm, as above
    await r.settle(1);
    const fds0 = fdCount(r.pid);
    const [attacker] = r.workers();
    await get(port, '/many');
    const warning = await r.until(
      () => r.stderr.find((l) => l.includes('OVERSEER_WORKER_CONTRACT')),
      20_000,
      'the warning',
    );
    assert.match(warning, new RegExp(`pid ${attacker}\\b.*a flood`));
    await waitGone(attacker!, 10_000);
    await r.ready(1);
    const fds1 = await r.until(
      () => {
        const n = fdCount(r.pid);
        return n <= fds0 + 2 ? n : undefined;
      },
      15_000,
      'the sockets closed',
    );
    console.log(`3000 listens at once: master fds ${fds0} -> ${fds1} once the worker is gone`);
    assert.match((await get(port)).body, /^main /);
  });
});
