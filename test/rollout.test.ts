// The release manifest and the rollout decision on their own: the format checked strictly (every
// mistake coded and naming its field), steps over time, the share (deterministic, monotone in the
// percent, a cohort per version, about uniform), each decision and its reason, and the fleet id.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  currentStep,
  manifestIntegrity,
  nextStepAt,
  parseManifest,
  type ReleaseManifest,
} from '../src/fetcher/manifest.js';
import { fleetIdOf, machineId } from '../src/upgrade/fleet-id.js';
import { decide, markedBad, type RunningVersion, sharePoint } from '../src/upgrade/rollout.js';
import { ROOT } from './support/paths.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

const parse = (m: unknown): ReleaseManifest => parseManifest(Buffer.from(JSON.stringify(m)), 'test');
const base = { manifest: 1, version: 'v2', url: 'app-v2.mjs', sha256: SHA_B };

/** The formula the README gives, computed here on its own. */
function point(id: string, version: string): number {
  const d = createHash('sha256').update(`${id}\n${version}`).digest();
  return (d.readUIntBE(0, 6) / 2 ** 48) * 100;
}

test('a minimal manifest: everyone, no halt, nothing bad', () => {
  const m = parse(base);
  assert.deepEqual(m, {
    version: 'v2',
    url: 'app-v2.mjs',
    sha256: SHA_B,
    signature: undefined,
    rollout: { percent: 100 },
    halt: false,
    bad: [],
  });
  assert.equal(parse({ ...base, sha256: SHA_B.toUpperCase() }).sha256, SHA_B);
  const sig = Buffer.alloc(64, 7);
  assert.deepEqual(parse({ ...base, signature: sig.toString('base64') }).signature, sig);
  assert.deepEqual(parse({ ...base, signature: sig.toString('hex') }).signature, sig);
});

test("the README's example manifest is a valid one", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Fleets: a release manifest'));
  const example = /```json\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(example, 'the Fleets section has a JSON example');
  const m = parseManifest(Buffer.from(example), 'README');
  assert.equal(m.version, '2.4.0');
  assert.equal(m.signature?.length, 64);
  assert.deepEqual(currentStep(m.rollout, Date.parse('2025-06-02T16:00:00Z')), { percent: 10, step: 2 });
});

test('every mistake is refused whole, coded, naming the field', () => {
  const cases: [unknown, RegExp][] = [
    ['not an object', /release manifest must be a JSON object/],
    [[], /release manifest must be a JSON object/],
    [{ ...base, manifest: 2 }, /manifest must be 1 \(the format this overseer reads\), got 2/],
    [{ ...base, manifest: undefined }, /manifest must be 1/],
    [{ ...base, hault: true }, /hault is not a known field/],
    [{ ...base, version: '' }, /version must be a non-empty string/],
    [{ ...base, version: 'v2\nx' }, /version must not hold control characters/],
    [{ ...base, version: 'v'.repeat(201) }, /version must be a non-empty string of at most 200/],
    [{ ...base, url: 7 }, /url must be a non-empty string/],
    [{ ...base, sha256: 'abc' }, /sha256 must be the sha256 of the version as 64 hex digits/],
    [{ ...base, signature: 'bm9wZQ==' }, /signature is not an ed25519 signature/],
    [{ ...base, signature: 5 }, /signature must be the ed25519 signature as base64/],
    [{ ...base, signature: 'x'.repeat(64) }, /signature must be the ed25519 signature as base64/],
    [{ ...base, halt: 'yes' }, /halt must be true or false/],
    [{ ...base, bad: 'v1' }, /bad must be a list/],
    [{ ...base, bad: ['v1', ''] }, /bad\[1\] must be a non-empty string/],
    [{ ...base, rollout: 10 }, /rollout must be a JSON object/],
    [{ ...base, rollout: {} }, /rollout must have either percent or steps, and nothing else/],
    [{ ...base, rollout: { percent: 10, steps: [] } }, /rollout must have either percent or steps/],
    [{ ...base, rollout: { percent: 101 } }, /rollout.percent must be a number from 0 to 100, got 101/],
    [{ ...base, rollout: { percent: '10' } }, /rollout.percent must be a number from 0 to 100/],
    [{ ...base, rollout: { steps: [] } }, /rollout.steps must be a list of 1 to 100/],
    [
      { ...base, rollout: { steps: [{ percent: 10, at: '2025-06-01 12:00' }] } },
      /rollout.steps\[0\].at must be an ISO 8601 time with its offset/,
    ],
    [
      { ...base, rollout: { steps: [{ percent: 10, at: '2025-06-01T12:00:00' }] } },
      /rollout.steps\[0\].at must be an ISO 8601 time with its offset/,
    ],
    [
      // Date.parse rolls a day past the month's end into the next month: a typo moves a wave.
      { ...base, rollout: { steps: [{ percent: 10, at: '2025-02-30T00:00:00Z' }] } },
      /rollout.steps\[0\].at must be an ISO 8601 time with its offset/,
    ],
    [
      { ...base, rollout: { steps: [{ percent: 10, at: '2025-04-31T12:00:00+02:00' }] } },
      /rollout.steps\[0\].at must be an ISO 8601 time with its offset/,
    ],
    [
      { ...base, rollout: { steps: [{ percent: 10, at: '2025-06-01T12:00:00Z', x: 1 }] } },
      /rollout.steps\[0\].x is not a known field/,
    ],
    // 14:00+02:00 is 12:00Z: the same instant, which is not later.
    [
      {
        ...base,
        rollout: {
          steps: [
            { percent: 10, at: '2025-06-01T12:00:00Z' },
            { percent: 50, at: '2025-06-01T14:00:00+02:00' },
          ],
        },
      },
      /rollout.steps\[1\].at must be later than the step before/,
    ],
    [
      {
        ...base,
        rollout: {
          steps: [
            { percent: 50, at: '2025-06-01T12:00:00Z' },
            { percent: 10, at: '2025-06-02T12:00:00Z' },
          ],
        },
      },
      /rollout.steps\[1\].percent must not be less than the step before/,
    ],
  ];
  for (const [m, pattern] of cases) {
    assert.throws(
      () => parse(m),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_OVERSEER_FETCH_BAD_RESPONSE' && /^test: release manifest/.test(err.message)
          ? pattern.test(err.message) || assert.fail(`${err.message} does not match ${pattern}`)
          : assert.fail(`${err.code}: ${err.message}`),
      JSON.stringify(m),
    );
  }
  assert.throws(() => parseManifest(Buffer.from('{"manifest":'), 'test'), {
    code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE',
    message: 'test: release manifest is not JSON',
  });
});

test('steps over time: the current one is the last begun, by the wall clock', () => {
  const steps = parse({
    ...base,
    rollout: {
      steps: [
        { percent: 1, at: '2025-06-01T12:00:00Z' },
        { percent: 10, at: '2025-06-01T16:00:00+02:00' },
        { percent: 100, at: '2025-06-02T00:00:00.5Z' },
      ],
    },
  }).rollout;
  const t = (iso: string): number => Date.parse(iso);
  assert.deepEqual(currentStep(steps, t('2025-06-01T11:59:59Z')), { percent: 0, step: 0 });
  assert.deepEqual(currentStep(steps, t('2025-06-01T12:00:00Z')), { percent: 1, step: 1 });
  assert.deepEqual(currentStep(steps, t('2025-06-01T14:00:00Z')), { percent: 10, step: 2 });
  assert.deepEqual(currentStep(steps, t('2025-06-03T00:00:00Z')), { percent: 100, step: 3 });
  assert.equal(nextStepAt(steps, t('2025-06-01T13:00:00Z')), t('2025-06-01T14:00:00Z'));
  assert.equal(nextStepAt(steps, t('2025-06-03T00:00:00Z')), undefined);
  assert.deepEqual(currentStep({ percent: 25 }, 0), { percent: 25, step: null });
  assert.equal(nextStepAt({ percent: 25 }, 0), undefined);
  const leap = parse({
    ...base,
    rollout: { steps: [{ percent: 5, at: '2028-02-29T23:30:00-01:00' }] },
  }).rollout;
  assert.deepEqual(
    leap,
    { steps: [{ percent: 5, at: t('2028-03-01T00:30:00Z') }] },
    'a leap day, as written',
  );
});

test('the share: the documented hash, monotone in the percent, a cohort per version, about uniform', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => `host-${i}`);
  for (const id of ids.slice(0, 50)) assert.equal(sharePoint(id, 'v2'), point(id, 'v2'));
  const cohort = (version: string, percent: number): Set<string> =>
    new Set(ids.filter((id) => sharePoint(id, version) < percent));
  // Raising the percent only adds masters.
  let before = new Set<string>();
  for (const percent of [0, 1, 5, 10, 25, 50, 75, 100]) {
    const now = cohort('v2', percent);
    for (const id of before) assert.ok(now.has(id), `${id} left the share at ${percent} %`);
    before = now;
  }
  assert.equal(cohort('v2', 0).size, 0);
  assert.equal(cohort('v2', 100).size, ids.length);
  // About uniform: 10 % of 2000 is 200 (a binomial's sd is about 13).
  const tenth = cohort('v2', 10).size;
  assert.ok(tenth > 140 && tenth < 260, `${tenth} of 2000 at 10 %`);
  // Each version draws its own cohort: the first 10 % of v2 and of v3 overlap by chance only.
  const v3 = cohort('v3', 10);
  const overlap = [...cohort('v2', 10)].filter((id) => v3.has(id)).length;
  assert.ok(overlap < 60, `${overlap} of the 10 % cohort are the same for v2 and v3`);
});

test('each decision and its reason', () => {
  const m = (extra: object): ReleaseManifest => parse({ ...base, rollout: { percent: 50 }, ...extra });
  const ids = Array.from({ length: 40 }, (_, i) => `id-${i}`);
  const inId = ids.find((id) => point(id, 'v2') < 50)!;
  const outId = ids.find((id) => point(id, 'v2') >= 50)!;
  const v1: RunningVersion = { label: 'v1', hashes: [SHA_A] };
  const none = (_sha256: string): boolean => false;
  const d = (manifest: ReleaseManifest, id: string, running = v1, knownBad = none) =>
    decide(manifest, id, Date.now(), running, knownBad);

  const take = d(m({}), inId);
  assert.equal(take.action, 'take');
  assert.equal(take.reason, 'in-share');
  assert.equal(take.inShare, true);
  assert.equal(take.percent, 50);
  assert.equal(take.step, null);
  assert.equal(take.point, point(inId, 'v2'));
  assert.deepEqual([d(m({}), outId).action, d(m({}), outId).reason], ['hold', 'out-of-share']);
  assert.deepEqual(
    [d(m({ halt: true }), inId).action, d(m({ halt: true }), inId).reason],
    ['hold', 'halted'],
  );
  // Running the manifest's version, by label or by hash (a release directory's 16-digit id too).
  assert.equal(d(m({}), inId, { label: 'v2', hashes: [SHA_A] }).reason, 'running');
  assert.equal(d(m({}), inId, { label: undefined, hashes: [SHA_B] }).reason, 'running');
  assert.equal(d(m({}), inId, { label: undefined, hashes: [SHA_B.slice(0, 16)] }).reason, 'running');
  assert.equal(d(m({ halt: true }), inId, { label: 'v2', hashes: [] }).reason, 'running');
  // The version itself marked bad, or failed here before: nobody takes it.
  assert.equal(d(m({ bad: ['v2'] }), inId).reason, 'marked-bad');
  assert.equal(d(m({ bad: [SHA_B] }), inId).reason, 'marked-bad');
  assert.equal(d(m({}), inId, v1, (h) => h === SHA_B).reason, 'known-bad');
  // The running version marked bad (by label or sha256): roll back, halted or not, in the share or not.
  for (const bad of [['v1'], [SHA_A], [SHA_A.toUpperCase()]]) {
    for (const id of [inId, outId]) {
      const r = d(m({ bad, halt: true }), id);
      assert.deepEqual([r.action, r.reason], ['roll-back', 'running-bad']);
    }
  }
  assert.equal(markedBad([SHA_A], { label: undefined, hashes: [SHA_A.slice(0, 16)] }), true);
  assert.equal(markedBad([SHA_A], { label: undefined, hashes: [SHA_A.slice(0, 15)] }), false);
  assert.equal(markedBad(['v1'], { label: undefined, hashes: [SHA_A] }), false);
});

test("manifestIntegrity: the manifest's sha256, and its signature when there is a public key", () => {
  const m = parse(base);
  assert.deepEqual(manifestIntegrity(m, undefined, 'test'), { sha256: SHA_B });
  assert.throws(() => manifestIntegrity(m, 'PEM', 'test'), {
    code: 'ERR_OVERSEER_SIGNATURE',
    message: "test: release manifest: version v2 has no signature, and the fetcher's publicKey asks for one",
  });
  const signed = parse({ ...base, signature: Buffer.alloc(64, 1).toString('base64') });
  assert.deepEqual(manifestIntegrity(signed, 'PEM', 'test'), {
    sha256: SHA_B,
    signature: Buffer.alloc(64, 1),
    publicKey: 'PEM',
  });
});

test("the fleet id: the configured one as it is, else this machine's id keyed by the app's name", () => {
  assert.equal(fleetIdOf('web-17', 'app'), 'web-17');
  const id = fleetIdOf(undefined, 'app');
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(fleetIdOf(undefined, 'app'), id, 'stable');
  assert.notEqual(fleetIdOf(undefined, 'other-app'), id, 'two apps on one machine are drawn apart');
  assert.ok(!id.includes(machineId().slice(0, 32)), 'the machine id itself is not shown');
});
