// With the addon gone (no build/, no prebuilds/), importing overseer still works and what
// needs the addon fails with a clear, coded error.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-noaddon-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('import overseer works with the addon deleted', () => {
  // A copy of the package as it would be installed, minus any compiled addon.
  const pkg = path.join(tmp, 'node_modules', 'overseer');
  fs.mkdirSync(pkg, { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  // dist/bundle is what `import 'overseer'` runs; dist/src lends the probe the addon's loader.
  for (const dir of ['bundle', 'src']) {
    fs.cpSync(path.join(root, 'dist', dir), path.join(pkg, 'dist', dir), { recursive: true });
  }
  const pkgJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    dependencies: object;
  };
  for (const dep of Object.keys(pkgJson.dependencies)) {
    fs.symlinkSync(path.join(root, 'node_modules', dep), path.join(tmp, 'node_modules', dep));
  }
  const probe = `
    const overseer = await import('overseer');
    const { native } = await import('overseer/dist/src/os/native.js').catch(() => import(${JSON.stringify(path.join(pkg, 'dist/src/os/native.js'))}));
    let err;
    try { native().describeFd(0); } catch (e) { err = e; }
    console.log(JSON.stringify({
      exports: Object.keys(overseer).sort(),
      supported: overseer.isSupported(),
      code: err?.code,
      hasCause: err?.cause instanceof Error,
      message: err?.message,
    }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: tmp,
    env: { ...process.env, PREBUILDS_ONLY: '' },
  });
  const result = JSON.parse(out.toString().trim().split('\n').pop()!);
  assert.equal(result.supported, false);
  assert.ok(result.exports.includes('isSupported'));
  assert.equal(result.code, 'ERR_OVERSEER_NATIVE_UNAVAILABLE');
  assert.equal(result.hasCause, true);
  assert.match(result.message, /native addon is not available/);
  // It says what it looked for, and what to do.
  assert.match(result.message, new RegExp(`no prebuilt addon for ${process.platform}-${process.arch}`));
  if (process.platform === 'linux') assert.match(result.message, /\(glibc \d+\.\d+\)/);
  assert.match(result.message, /install python3, make and g\+\+ .*then run `npm rebuild overseer`/);
});
