// Upgrades with the FileFetcher: a new version swapped in under load, rollback of one that
// cannot start, and the checks that stop a bad one before it runs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { answeredBy, describeErrors, startLoad } from './support/load.js';
import { eventually, stopAll } from './support/process.js';
import { leftovers, type VersionOptions, versionSource, writeVersion } from './support/versioned-app.js';

after(stopAll);

/** One request on a new connection (a kept-alive one would still reach a draining worker). */
async function fresh(port: number): Promise<string> {
  return (await get(port)).body;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

async function setup(extra: Partial<VersionOptions> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-upgrade-'));
  const bin = path.join(dir, 'app.mjs');
  const next = path.join(dir, 'incoming', 'app.mjs');
  fs.mkdirSync(path.dirname(next));
  const fetcher = `new FileFetcher({ path: ${JSON.stringify(next)}, interval: 200 })`;
  const opts = (v: Partial<VersionOptions>): VersionOptions => ({ version: 'v1', fetcher, ...extra, ...v });
  writeVersion(bin, opts({}));
  const app = new AppProcess({}, { script: bin });
  const port = await app.port();
  await app.nth('ready', 1);
  const ipc = String((await app.nth('ipc', 1)).path);
  /** Drops a version where the fetcher looks. */
  const offer = (v: Partial<VersionOptions>): string => {
    const source = versionSource(opts(v));
    fs.writeFileSync(`${next}.tmp`, source);
    fs.renameSync(`${next}.tmp`, next);
    return source;
  };
  return { dir, bin, app, port, ipc, offer, v1: fs.readFileSync(bin, 'utf8') };
}

test('a new version is picked up, swapped in and served with zero failed requests', async () => {
  const { dir, bin, app, port, ipc, offer, v1 } = await setup();
  const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000 });
  await sleep(300);
  const v2 = offer({ version: 'v2' });
  const up = await app.nth('upgrade', 1, 20_000);
  assert.equal(up.result, 'upgraded', JSON.stringify(up));
  assert.equal(up.oldHash, sha(v1));
  assert.equal(up.newHash, sha(v2));
  await sleep(500);
  await answeredBy(load.pids, 2);
  const r = await load.stop();
  assert.equal(r.failed, 0, describeErrors(r));
  assert.ok(r.pids.size >= 2);
  assert.equal(fs.readFileSync(bin, 'utf8'), v2);
  assert.equal(fs.readFileSync(`${bin}.prev`, 'utf8'), v1);
  assert.deepEqual(leftovers(dir), []);
  // The old worker drained and exited; the status shows the new binary.
  await app.until(
    () => app.events.find((e) => e.event === 'exit' && e.workerId === 1),
    10_000,
    'old worker exit',
  );
  const status = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as {
    binHash: string;
    fetcher: { lastResult: { result: string } };
  };
  assert.equal(status.binHash, sha(v2));
  assert.equal(status.fetcher.lastResult.result, 'upgraded');
  // The same version is not fetched again.
  await sleep(1_500);
  assert.equal(app.count('upgrade'), 1);
  assert.equal(app.count('fork'), 2);
});

test('a version that passes the sanity check but cannot start is rolled back', async () => {
  const { dir, bin, app, port, ipc, offer, v1 } = await setup();
  const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000 });
  const bad = offer({ version: 'v2-broken', throwOnStart: true });
  const up = await app.nth('upgrade', 1, 20_000);
  const r = await load.stop();
  assert.equal(up.result, 'failed');
  assert.equal(up.rolledBack, true);
  assert.equal(up.newHash, sha(bad));
  assert.match(String(up.reason), /this version cannot start/);
  assert.equal(r.failed, 0, describeErrors(r));
  assert.equal(fs.readFileSync(bin, 'utf8'), v1, 'binPath restored');
  assert.deepEqual(leftovers(dir), []);
  const status = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as {
    binHash: string;
    fetcher: { lastResult: { result: string }; badHashes: string[] };
  };
  assert.equal(status.binHash, sha(v1));
  assert.equal(status.fetcher.lastResult.result, 'failed');
  assert.deepEqual(status.fetcher.badHashes, [sha(bad)]);
  // The bad hash is remembered: offered again, it is refused without another start.
  const forks = app.count('fork');
  const again = await ipcRequest(ipc, 'POST', '/overseer/trigger-update');
  assert.equal((again.body as { code: string }).code, 'ERR_OVERSEER_KNOWN_BAD', JSON.stringify(again.body));
  assert.equal(app.count('fork'), forks);
  // A new master (a handoff) remembers it too: it does not try that version again.
  const handed = (await ipcRequest(ipc, 'POST', '/overseer/reexec', 60_000)).body as {
    ok: boolean;
    pid: number;
  };
  assert.equal(handed.ok, true, JSON.stringify(handed));
  try {
    const after = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as {
      pid: number;
      fetcher: { badHashes: string[] };
    };
    assert.equal(after.pid, handed.pid);
    assert.deepEqual(after.fetcher.badHashes, [sha(bad)]);
    const refused = await ipcRequest(ipc, 'POST', '/overseer/trigger-update');
    assert.equal((refused.body as { code: string }).code, 'ERR_OVERSEER_KNOWN_BAD');
  } finally {
    process.kill(handed.pid, 'SIGTERM');
  }
});

test('a version that becomes ready and then crashes is rolled back within upgradeHealthWindow', async () => {
  const { dir, bin, app, port, ipc, offer, v1 } = await setup();
  const load = startLoad({ port, concurrency: 2, keepAlive: true, maxMs: 60_000 });
  const bad = offer({ version: 'v2-crashes', crashAfterReadyMs: 300 });
  const up = await app.nth('upgrade', 1, 30_000);
  assert.equal(up.result, 'failed', JSON.stringify(up));
  assert.equal(up.code, 'ERR_OVERSEER_UPGRADE_UNHEALTHY');
  assert.equal(up.rolledBack, true);
  assert.equal(up.newHash, sha(bad));
  assert.match(String(up.reason), /crashed within upgradeHealthWindow \(1000 ms\)/);
  assert.equal(fs.readFileSync(bin, 'utf8'), v1, 'binPath restored from .prev');
  await app.until(() => app.count('ready') >= 3, 10_000, 'the old version ready again');
  await sleep(1_000);
  const r = await load.stop();
  // Only what was in flight on the crashed worker can fail; there is no crash loop.
  assert.ok(r.failed <= 4, describeErrors(r));
  assert.equal(await fresh(port), 'v1');
  assert.ok(app.count('fork') <= 4, `${app.count('fork')} forks: a crash loop`);
  const status = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as {
    binHash: string;
    fetcher: { badHashes: string[] };
  };
  assert.equal(status.binHash, sha(v1));
  assert.deepEqual(status.fetcher.badHashes, [sha(bad)]);
  assert.deepEqual(leftovers(dir), []);
});

test('a stop inside upgradeHealthWindow commits nothing: the old version is back on disk for the next start', async () => {
  const { dir, bin, app, offer, v1 } = await setup({ extra: 'upgradeHealthWindow: 60000,' });
  offer({ version: 'v2' });
  await app.until(() => app.count('ready') >= 2, 20_000, 'v2 ready, inside its window');
  assert.notEqual(fs.readFileSync(bin, 'utf8'), v1, 'v2 swapped in for its window');
  assert.equal((await app.stop()).code, 0);
  const up = await app.nth('upgrade', 1, 1_000);
  assert.equal(up.result, 'failed', JSON.stringify(up));
  assert.equal(up.code, 'ERR_OVERSEER_SHUTTING_DOWN');
  assert.equal(up.rolledBack, true);
  assert.match(String(up.reason), /stopped .*upgradeHealthWindow/);
  assert.equal(
    fs.readFileSync(bin, 'utf8'),
    v1,
    'the next start would run a version that never passed its window',
  );
  assert.deepEqual(leftovers(dir), []);
});

test('a stop during the restart onto a new version, before it is ready: not bad, the old version back on disk', async () => {
  const { dir, bin, app, offer, v1 } = await setup();
  offer({ version: 'v2', readyDelayMs: 20_000 });
  await app.until(() => app.count('fork') >= 2, 20_000, "v2's worker started");
  assert.equal((await app.stop()).code, 0);
  const up = await app.nth('upgrade', 1, 1_000);
  assert.equal(up.result, 'failed', JSON.stringify(up));
  assert.equal(up.code, 'ERR_OVERSEER_SHUTTING_DOWN', JSON.stringify(up));
  assert.equal(fs.readFileSync(bin, 'utf8'), v1);
  assert.deepEqual(leftovers(dir), []);
});

for (const [name, v, why] of [
  ['exits non-zero in the sanity check', { exitOnLoad: 3 }, /exited with code 3/],
  ['prints the wrong token', { wrongToken: true }, /did not print the token last/],
] as const) {
  test(`a candidate that ${name} is never swapped in`, async () => {
    const { dir, bin, app, offer, v1 } = await setup();
    offer({ version: 'v2', ...v });
    const up = await app.nth('upgrade', 1, 20_000);
    assert.equal(up.result, 'failed');
    assert.equal(up.code, 'ERR_OVERSEER_SANITY_CHECK');
    assert.match(String(up.reason), why);
    // The master's warning and error say "upgrade failed" before the reason, once.
    assert.doesNotMatch(String(up.reason), /upgrade failed/);
    assert.equal(app.count('fork'), 1, 'no worker was started for it');
    assert.equal(fs.readFileSync(bin, 'utf8'), v1);
    assert.deepEqual(leftovers(dir), []);
  });
}

test('preUpgrade rejecting cancels the upgrade', async () => {
  const flag = path.join(os.tmpdir(), `overseer-reject-${process.pid}`);
  fs.writeFileSync(flag, '');
  try {
    const { dir, bin, app, offer, v1 } = await setup({ rejectFlag: flag });
    offer({ version: 'v2' });
    const up = await app.nth('upgrade', 1, 20_000);
    assert.equal(up.result, 'failed');
    assert.equal(up.code, 'ERR_OVERSEER_PRE_UPGRADE');
    assert.match(String(up.reason), /preUpgrade says no/);
    assert.equal(fs.readFileSync(bin, 'utf8'), v1);
    assert.deepEqual(leftovers(dir), []);
  } finally {
    fs.rmSync(flag, { force: true });
  }
});

test('noRestartAfterFetch swaps the new version in but leaves the restart to you', async () => {
  const { bin, app, port, offer } = await setup({ extra: 'noRestartAfterFetch: true,' });
  const v2 = offer({ version: 'v2' });
  const up = await app.nth('upgrade', 1, 20_000);
  assert.equal(up.result, 'upgraded');
  assert.equal(up.restarted, false);
  assert.equal(fs.readFileSync(bin, 'utf8'), v2);
  assert.equal(app.count('fork'), 1, 'no restart happened');
  assert.equal(await fresh(port), 'v1', 'the old version still serves until a restart');
  const r = await app.restart();
  assert.equal(r.ok, true);
  assert.equal(await fresh(port), 'v2');
});

test('a handoff asked for during an upgrade waits for it: after the rollback the new master serves v1, names it, and knows the bad one', async () => {
  const { dir, bin, app, port, ipc, offer, v1 } = await setup();
  const bad = offer({ version: 'v2-crashes', crashAfterReadyMs: 100 });
  await app.nth('fork', 2, 20_000); // the upgrade's restart has begun: v2 is on disk
  const handed = (await ipcRequest(ipc, 'POST', '/overseer/reexec', 60_000)).body as {
    ok: boolean;
    pid: number;
  };
  assert.equal(handed.ok, true, JSON.stringify(handed));
  try {
    // The old master settled its upgrade (rolled back) before it handed over.
    const up = app.events.find((e) => e.event === 'upgrade');
    assert.deepEqual([up?.result, up?.rolledBack], ['failed', true], JSON.stringify(up));
    assert.equal(fs.readFileSync(bin, 'utf8'), v1, 'binPath restored from .prev');
    // The new master looks at once, stages the bad version to hash it, and refuses it: its
    // status after that look, when it is fair to ask that nothing is left (the staged copy
    // lives meanwhile).
    const status = await eventually(
      async () => {
        const s = (await ipcRequest(ipc, 'GET', '/overseer/status')).body as {
          pid: number;
          binHash: string;
          fetcher: { badHashes: string[]; lastResult: { result: string; code?: string } | null };
        };
        return s.fetcher.lastResult === null ? undefined : s;
      },
      10_000,
      "the new master's first look at the fetcher",
    );
    assert.equal(status.pid, handed.pid);
    assert.equal(status.binHash, sha(v1), 'the status names the version that serves');
    assert.deepEqual(status.fetcher.badHashes, [sha(bad)]);
    const refused = status.fetcher.lastResult;
    assert.deepEqual([refused?.result, refused?.code], ['failed', 'ERR_OVERSEER_KNOWN_BAD']);
    assert.equal(await fresh(port), 'v1');
    assert.deepEqual(leftovers(dir), []);
  } finally {
    process.kill(handed.pid, 'SIGTERM');
  }
});
