// The updater following a release manifest, on fakes (a manifest source and a master that only
// records): what it decides and why, in its status and its 'rollout' events (one per change,
// not one per check), that a version it holds is never downloaded, and a running version marked
// bad with nothing good to go back to (said once, then left alone). Taking a version and rolling
// back run real sanity checks and workers: test/fleet-rollout.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import type { FetchedManifest } from '../src/fetcher/fetcher.js';
import { parseManifest } from '../src/fetcher/manifest.js';
import type { RolloutEvent, UpgradeEvent } from '../src/master/events.js';
import { fleetIdOf } from '../src/upgrade/fleet-id.js';
import { type UpdaterHost, Upgrader } from '../src/upgrade/upgrader.js';
import { fakeUpdaterHost, UPDATER_OPTIONS } from './support/updater.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-rollout-'));
const bin = path.join(dir, 'app.mjs');
const V1 = 'console.log("v1")';
fs.writeFileSync(bin, V1);
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

interface Recorded {
  host: UpdaterHost;
  rollouts: RolloutEvent[];
  upgrades: UpgradeEvent[];
}

function host(): Recorded {
  const rollouts: RolloutEvent[] = [];
  const upgrades: UpgradeEvent[] = [];
  const h = fakeUpdaterHost(bin, {
    setHash: () => assert.fail('nothing is swapped in these tests'),
    restart: async () => assert.fail('nothing restarts in these tests'),
    onUpgrade: (e) => upgrades.push(e),
    onRollout: (e) => rollouts.push(e),
  });
  return { host: h, rollouts, upgrades };
}

const options = UPDATER_OPTIONS;

/** A manifest source whose manifest the test sets; counts the downloads it was asked for. */
function source(): { fetcher: { fetch(): Promise<FetchedManifest> }; set(m: object): void; opened: number } {
  let body = '';
  const s = {
    opened: 0,
    set: (m: object) => {
      body = JSON.stringify({ manifest: 1, url: 'app.mjs', ...m });
    },
    fetcher: {
      fetch: async (): Promise<FetchedManifest> => ({
        manifest: parseManifest(Buffer.from(body), 'test'),
        source: 'test',
        open: async () => {
          s.opened++;
          throw new Error('no download in these tests');
        },
      }),
    },
  };
  return s;
}

test('holds: why, in the status and in one rollout event per change', async () => {
  const src = source();
  const rec = host();
  const u = new Upgrader(src.fetcher, { ...options, fleetId: 'web-1' }, rec.host);
  assert.equal(u.status().release, null, 'no manifest read yet');
  src.set({ version: 'v1', sha256: sha(V1) });
  assert.deepEqual(await u.trigger(), { result: 'no-update' });
  const release = u.status().release!;
  assert.deepEqual(
    { ...release, manifestAt: typeof release.manifestAt },
    {
      fleetId: 'web-1',
      running: 'v1',
      version: 'v1',
      percent: 100,
      step: null,
      point: release.point,
      inShare: true,
      halted: false,
      decision: 'hold',
      reason: 'running',
      manifestAt: 'string',
    },
  );
  // The same manifest again: no new event.
  await u.trigger();
  assert.equal(rec.rollouts.length, 1);
  // v2, nobody's share yet; then halted; then marked bad; then failed here before.
  const v2 = { version: 'v2', sha256: sha('v2') };
  src.set({ ...v2, rollout: { percent: 0 } });
  await u.trigger();
  src.set({ ...v2, rollout: { percent: 100 }, halt: true });
  await u.trigger();
  src.set({ ...v2, bad: ['v2'] });
  await u.trigger();
  u.rememberBad([sha('v2')]);
  src.set(v2);
  await u.trigger();
  assert.deepEqual(
    rec.rollouts.map((e) => [e.version, e.running, e.percent, e.inShare, e.halted, e.decision, e.reason]),
    [
      ['v1', 'v1', 100, true, false, 'hold', 'running'],
      ['v2', 'v1', 0, false, false, 'hold', 'out-of-share'],
      ['v2', 'v1', 100, true, true, 'hold', 'halted'],
      ['v2', 'v1', 100, true, false, 'hold', 'marked-bad'],
      ['v2', 'v1', 100, true, false, 'hold', 'known-bad'],
    ],
  );
  assert.equal(src.opened, 0, 'a version held is never downloaded');
  assert.deepEqual(rec.upgrades, [], 'holding is no upgrade');
  const s = u.status();
  assert.equal(s.rollbacks, 0);
  assert.equal(s.release?.reason, 'known-bad');
  u.stop();
});

test('the running version marked bad, with nothing good to go back to: said once, then left alone', async () => {
  const src = source();
  const rec = host();
  const u = new Upgrader(src.fetcher, options, rec.host);
  src.set({ version: 'v1', sha256: sha(V1) });
  await u.trigger(); // learns that it runs v1
  // No .prev beside binPath, and the manifest's own version is the bad one.
  src.set({ version: 'v1', sha256: sha(V1), bad: ['v1'] });
  const r = await u.trigger();
  assert.equal(r.result, 'failed');
  assert.equal((r as { code?: string }).code, 'ERR_OVERSEER_NO_GOOD_VERSION');
  assert.match(
    (r as { reason: string }).reason,
    /the running version v1 is marked bad in the release manifest, and this master has no good version to go back to/,
  );
  assert.deepEqual(u.status().badHashes, [sha(V1)], 'the bad version is never taken again');
  assert.deepEqual(await u.trigger(), { result: 'no-update' });
  assert.equal(rec.upgrades.length, 1, 'said once, not at every check');
  assert.deepEqual(
    rec.rollouts.map((e) => [e.decision, e.reason]),
    [
      ['hold', 'running'],
      ['roll-back', 'running-bad'],
    ],
  );
  // The fleet id: unset, it is made from this machine's id and the app's name (binPath's base name).
  assert.equal(rec.rollouts[0]?.fleetId, fleetIdOf(undefined, 'app'));
  assert.equal(src.opened, 0);
  u.stop();
});

test('a version published compressed (its manifest sha256 is of the .gz) that failed here is held, not downloaded at every check', async () => {
  const plain = 'console.log("v2, bad here")';
  const published = 'the .gz bytes, whose sha256 the manifest gives';
  let opened = 0;
  const body = JSON.stringify({ manifest: 1, version: 'v2', url: 'app.mjs.gz', sha256: sha(published) });
  const fetcher = {
    fetch: async (): Promise<FetchedManifest> => ({
      manifest: parseManifest(Buffer.from(body), 'test'),
      source: 'test',
      open: async () => {
        opened++;
        // What the fetcher hands on: the version as it will run, decompressed.
        return { stream: Readable.from([Buffer.from(plain)]), version: 'v2' };
      },
    }),
  };
  const rec = host();
  const u = new Upgrader(fetcher, options, rec.host);
  u.rememberBad([sha(plain)]); // it failed to start here before
  const first = await u.trigger();
  assert.equal((first as { code?: string }).code, 'ERR_OVERSEER_KNOWN_BAD', JSON.stringify(first));
  assert.equal(opened, 1);
  for (let i = 0; i < 3; i++) await u.trigger();
  assert.equal(opened, 1, 'downloaded again at every check');
  assert.equal(u.status().release?.reason, 'known-bad');
  u.stop();
});
