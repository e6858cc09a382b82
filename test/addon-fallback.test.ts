// Where the addon file is not plain (os/addon-file.ts leaves it to node-gyp-build), overseer
// opens it through node-gyp-build, which it reaches with a require made from node:module at
// that moment only: a copy of the package with a second addon beside its own still loads.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { addonFile } from '../src/os/addon-file.js';
import { BUNDLE, ROOT } from './support/paths.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-addon-fallback-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('an addon only node-gyp-build picks is opened through node-gyp-build', (t) => {
  const own = addonFile(ROOT);
  if (own === undefined) {
    t.skip('this checkout has no plain addon to copy');
    return;
  }
  // A real copy (the loader would follow a symlink back here, and find this checkout's root).
  const dir = path.join(tmp, 'overseer');
  fs.cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(BUNDLE, path.join(dir, 'dist', 'bundle'), { recursive: true });
  const release = path.join(dir, 'build', 'Release');
  fs.mkdirSync(release, { recursive: true });
  fs.copyFileSync(own, path.join(release, 'overseer.node'));
  fs.copyFileSync(own, path.join(release, 'other.node'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(
    path.join(ROOT, 'node_modules', 'node-gyp-build'),
    path.join(dir, 'node_modules', 'node-gyp-build'),
    'dir',
  );
  assert.equal(addonFile(dir), undefined, 'two addons in build/Release are not plain');

  const index = pathToFileURL(path.join(dir, 'dist', 'bundle', 'index.js')).href;
  const probe = `const o = await import(${JSON.stringify(index)});
const supported = o.isSupported();
const { createRequire } = await import('node:module');
const required = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({ supported, required }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe]).toString();
  const { supported, required } = JSON.parse(out.trim()) as { supported: boolean; required: string[] };
  assert.equal(supported, true);
  assert.ok(
    required.some((p) => p.includes(`${path.sep}node-gyp-build${path.sep}`)),
    `node-gyp-build was not required: ${required.join(', ')}`,
  );
});
