#!/usr/bin/env node
// `npm test` and `npm run test:unit`. The unit tests run on fakes and in-process sockets alone
// (no child process: test/support/fakes-only.ts makes starting one fail) and take seconds; the
// end-to-end tests run real masters, workers and load, and take minutes, one file at a time
// (their load tests want the machine); unit test files run side by side, as they mostly wait.
// `npm test` runs both, the unit tests first; a test file not listed below is end-to-end.
// Usage: node scripts/test.mjs [unit|e2e|all] (default all), after tsc (npm's pretest does it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The unit tests, by name (test/<name>.test.ts). */
export const UNIT = [
  'addon-file',
  'api',
  'codes',
  'config',
  'drain',
  'drain-order',
  'fetcher-file',
  'fetcher-func',
  'fetcher-github',
  'fetcher-http',
  'fetcher-manifest',
  'fetcher-s3',
  'handoff-listener',
  'health-window',
  'heap',
  'lazy-api',
  'master-core',
  'names',
  'native-surface',
  'options',
  'pacer',
  'program-hash',
  'program-listeners',
  'rollout',
  'run-arguments',
  'slot-listens',
  'stage',
  'state',
  'supervisor',
  'testing',
  'top-view',
  'updater',
  'upgrader-rollout',
  'usage',
  'worker-channel',
  'worker-env',
  'worker-output',
];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join('dist', 'test');

/** The compiled test files of a suite, as paths from the repository root. */
export function testFiles(suite) {
  const all = fs
    .readdirSync(path.join(root, dist))
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  const unit = new Set(UNIT.map((name) => `${name}.test.js`));
  for (const f of unit)
    if (!all.includes(f)) throw new Error(`no ${dist}/${f}: a unit test listed in scripts/test.mjs is gone`);
  const picked = suite === 'unit' ? all.filter((f) => unit.has(f)) : all.filter((f) => !unit.has(f));
  return picked.map((f) => path.join(dist, f));
}

/** Runs one suite with node --test; returns whether it passed. */
function run(suite) {
  const unit = suite === 'unit';
  const guard = unit ? ['--import', `./${dist}/support/fakes-only.js`] : [];
  const concurrency = unit ? Math.min(4, Math.max(2, os.availableParallelism())) : 1;
  const t0 = Date.now();
  const args = [...guard, '--test', `--test-concurrency=${concurrency}`, ...testFiles(suite)];
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    stdio: 'inherit',
  });
  console.error(
    `[test] ${suite}: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return r.status === 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const suite = process.argv[2] ?? 'all';
  if (!['unit', 'e2e', 'all'].includes(suite)) {
    console.error('usage: node scripts/test.mjs [unit|e2e|all]');
    process.exit(2);
  }
  // Both suites run even when the first fails, so one run tells everything.
  const results = (suite === 'all' ? ['unit', 'e2e'] : [suite]).map(run);
  process.exit(results.every(Boolean) ? 0 : 1);
}
