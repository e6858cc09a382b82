// A release manifest with release archives, read from a file: a step that begins later wakes
// the FileFetcher by itself and the master takes the release then; marking that release's
// sha256 bad sends `current` back to the kept release it replaced. Under load, 0 failed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { extractRelease } from '../src/upgrade/archive.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { describeErrors, startLoad } from './support/load.js';
import { stopAll } from './support/process.js';
import { tarGz } from './support/tarball.js';
import { versionSource } from './support/versioned-app.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-rollout-release-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

test('release archives from a manifest file: a step taken when it begins, then rolled back to the kept release', async () => {
  const root = path.join(tmp, 'srv');
  const manifest = path.join(root, 'incoming', 'manifest.json');
  fs.mkdirSync(path.dirname(manifest), { recursive: true });
  const fetcher = `new FileFetcher({ path: ${JSON.stringify(manifest)}, manifest: true, interval: 200 })`;
  const release = (version: string): Buffer =>
    tarGz([{ path: 'app.mjs', body: versionSource({ version, fetcher, extra: "fleetId: 'one'," }) }]);
  const v1 = path.join(tmp, 'v1.tgz');
  fs.writeFileSync(v1, release('v1'));
  await extractRelease(v1, path.join(root, 'releases', 'v1'));
  fs.symlinkSync('releases/v1', path.join(root, 'current'));
  const v2 = release('v2');
  fs.writeFileSync(path.join(root, 'incoming', 'app-v2.tar.gz'), v2);
  const write = (m: object): void => {
    fs.writeFileSync(`${manifest}.tmp`, JSON.stringify({ manifest: 1, ...m }));
    fs.renameSync(`${manifest}.tmp`, manifest);
  };
  // v2 for everyone from a step an hour ahead: nobody's share yet.
  const V2 = { version: 'v2', url: 'app-v2.tar.gz', sha256: sha(v2) };
  const stepAt = (ms: number): object => ({ steps: [{ percent: 100, at: new Date(ms).toISOString() }] });
  write({ ...V2, rollout: stepAt(Date.now() + 3_600_000) });

  const app = new AppProcess({}, { script: path.join(root, 'current', 'app.mjs') });
  const port = await app.port();
  const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 60_000 });
  const before = await app.until(() => app.events.find((e) => e.event === 'rollout'), 20_000, 'a decision');
  assert.deepEqual(
    [before.decision, before.reason, before.step, before.percent],
    ['hold', 'out-of-share', 0, 0],
  );
  // The step moved to a second from now: the master takes v2 when it begins.
  const at = Date.now() + 1_000;
  write({ ...V2, rollout: stepAt(at) });
  const up = await app.nth('upgrade', 1, 30_000);
  assert.equal(up.result, 'upgraded', JSON.stringify(up));
  assert.ok(Date.now() >= at, 'taken when the step began, not before');
  const taken = app.events.find((e) => e.event === 'rollout' && e.decision === 'take');
  assert.deepEqual([taken?.reason, taken?.step, taken?.percent], ['in-share', 1, 100]);
  const v2Dir = fs.readlinkSync(path.join(root, 'current'));
  assert.equal(v2Dir, `releases/${sha(v2).slice(0, 16)}`);
  await app.settle(1, 10_000); // v1's worker drained
  assert.equal((await get(port)).body, 'v2');

  // Marked bad by its sha256: back to the kept v1 release, through `current`.
  write({ ...V2, bad: [sha(v2)] });
  const back = await app.nth('upgrade', 2, 30_000);
  const r = await load.stop();
  assert.equal(back.result, 'rolled-back', JSON.stringify(back));
  assert.equal(back.from, 'v2');
  assert.equal(fs.readlinkSync(path.join(root, 'current')), 'releases/v1');
  assert.equal(r.failed, 0, describeErrors(r));
  assert.ok(r.ok > 100, `too little load got through (${r.ok})`);
  // Once v2's worker has drained (a kept-alive connection of the load may reach it until then).
  await app.settle(1, 10_000);
  assert.equal((await get(port)).body, 'v1');
  await app.until(
    () => app.events.find((e) => e.event === 'rollout' && e.reason === 'marked-bad'),
    10_000,
    'the master holds, v2 being bad',
  );
  assert.equal(app.count('upgrade'), 2, 'v2 is not taken again');
});
