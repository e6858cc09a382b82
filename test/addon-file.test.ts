// Which addon file overseer opens itself, without node-gyp-build: only where node-gyp-build's
// own rules would pick exactly that file, and nothing where they would pick another.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { addonFile } from '../src/os/addon-file.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-addon-file-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tuple = `${process.platform}-${process.arch}`;

/** A package root holding the given files (paths from the root), each empty. */
function root(...files: string[]): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'root-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), '');
  }
  return dir;
}

test("this machine's build comes first, as node-gyp-build's", () => {
  const dir = root('build/Release/overseer.node', `prebuilds/${tuple}/overseer.node`);
  assert.equal(addonFile(dir, {}), path.join(dir, 'build', 'Release', 'overseer.node'));
});

test('the one untagged prebuild for this platform, when nothing was built', () => {
  const dir = root(`prebuilds/${tuple}/overseer.node`, 'prebuilds/other-arch/overseer.node');
  assert.equal(addonFile(dir, {}), path.join(dir, 'prebuilds', tuple, 'overseer.node'));
  // build/ without an addon in Release (node-gyp's leftovers) changes nothing.
  fs.mkdirSync(path.join(dir, 'build', 'Release', 'obj.target'), { recursive: true });
  assert.equal(addonFile(dir, {}), path.join(dir, 'prebuilds', tuple, 'overseer.node'));
});

test('PREBUILDS_ONLY skips the build, as node-gyp-build does', () => {
  const dir = root('build/Release/overseer.node', `prebuilds/${tuple}/overseer.node`);
  assert.equal(addonFile(dir, { PREBUILDS_ONLY: '1' }), path.join(dir, 'prebuilds', tuple, 'overseer.node'));
  assert.equal(addonFile(root('build/Release/overseer.node'), { PREBUILDS_ONLY: '1' }), undefined);
});

test('anything less plain is left to node-gyp-build', () => {
  // Its override variable, named after the package.
  assert.equal(addonFile(root('build/Release/overseer.node'), { OVERSEER_PREBUILD: '/x' }), undefined);
  // A Debug build, which node-gyp-build takes before any prebuild; another name in Release.
  assert.equal(
    addonFile(root('build/Debug/overseer.node', `prebuilds/${tuple}/overseer.node`), {}),
    undefined,
  );
  assert.equal(
    addonFile(root('build/Release/other.node', `prebuilds/${tuple}/overseer.node`), {}),
    undefined,
  );
  // An empty build/Debug is passed over, as node-gyp-build passes it.
  const emptyDebug = root(`prebuilds/${tuple}/overseer.node`);
  fs.mkdirSync(path.join(emptyDebug, 'build', 'Debug'), { recursive: true });
  assert.equal(addonFile(emptyDebug, {}), path.join(emptyDebug, 'prebuilds', tuple, 'overseer.node'));
  // Several candidates (tags decide among them), or another name.
  const tagged = root(`prebuilds/${tuple}/overseer.node`, `prebuilds/${tuple}/overseer.musl.node`);
  assert.equal(addonFile(tagged, {}), undefined);
  assert.equal(addonFile(root(`prebuilds/${tuple}/overseer.napi.node`), {}), undefined);
  // None at all.
  assert.equal(addonFile(root(), {}), undefined);
  assert.equal(addonFile(root('prebuilds/other-arch/overseer.node'), {}), undefined);
});
