#!/usr/bin/env node
// The release path, proven end to end: pack the package, install the tarball into a
// fresh project with no compiler on PATH, and load the addon from prebuilds/ only.
// Run after `npm run build` and `npm run prebuild` (the script checks both).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const platformDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);

function fail(message) {
  console.error(`test-pack: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(path.join(root, 'dist', 'src', 'index.js'))) fail('dist/ is missing: run `npm run build`');
if (!fs.existsSync(platformDir) || !fs.readdirSync(platformDir).some((f) => f.endsWith('.node'))) {
  fail(`no prebuild in ${platformDir}: run \`npm run prebuild\``);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-pack-'));
try {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root }),
  );
  const tarball = path.join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  for (const must of ['dist/src/index.js', 'dist/src/index.d.ts', 'binding.gyp', 'package.json']) {
    if (!files.includes(must)) fail(`tarball lacks ${must}`);
  }
  if (!files.some((f) => f.startsWith(`prebuilds/${process.platform}-${process.arch}/`))) {
    fail('tarball lacks the prebuild');
  }
  if (files.some((f) => f.startsWith('dist/test/') || f.startsWith('build/')))
    fail('tarball ships tests or build/');

  // A PATH with node, npm and a shell, and nothing that could compile the addon.
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  const npmCli = execFileSync('which', ['npm']).toString().trim();
  for (const [name, target] of [
    ['node', process.execPath],
    ['npm', npmCli],
    ['sh', '/bin/sh'],
  ]) {
    fs.symlinkSync(fs.realpathSync(target), path.join(bin, name));
  }
  const env = { ...process.env, PATH: bin, PREBUILDS_ONLY: '1', CC: 'false', CXX: 'false' };
  for (const tool of ['g++', 'gcc', 'cc', 'make', 'python3']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { env, stdio: 'pipe' });
      fail(`${tool} is still on PATH`);
    } catch {}
  }

  const app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'app', private: true, type: 'module' }),
  );
  execFileSync(npmCli, ['install', '--no-audit', '--no-fund', tarball], { cwd: app, env, stdio: 'inherit' });

  const installed = path.join(app, 'node_modules', 'overseer');
  if (fs.existsSync(path.join(installed, 'build')))
    fail('the install compiled the addon instead of using the prebuild');
  const probe = `
    import { isSupported } from 'overseer';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const file = require('node-gyp-build').resolve(${JSON.stringify(installed)});
    console.log(JSON.stringify({ file, supported: isSupported() }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
    cwd: app,
    env,
  }).toString();
  const result = JSON.parse(out.trim().split('\n').pop());
  if (!result.file.includes(`${path.sep}prebuilds${path.sep}`))
    fail(`addon resolved outside prebuilds/: ${result.file}`);
  if (result.supported !== true) fail('isSupported() is false with the prebuild installed');
  console.log(
    `test-pack: ok, ${packed[0].filename} loads ${path.relative(installed, result.file)} with no compiler`,
  );
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
