#!/usr/bin/env node
// npm run prebuild: the prebuilds the tarball ships, each stripped.
//   win32-x64    cross-compiled with mingw-w64 (scripts/windows/build.mjs)
//   linux-arm64  cross-compiled with Debian's g++-aarch64-linux-gnu (prebuildify --arch arm64)
//   linux-x64    natively (prebuildify), last: node-gyp leaves its build/ for this machine
// Usage: node scripts/prebuild.mjs [--only linux-x64,linux-arm64,win32-x64]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1].split(',')
  : undefined;
const wanted = (target) => only === undefined || only.includes(target);
const prebuildify = path.join(root, 'node_modules', '.bin', 'prebuildify');

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

function have(tool) {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

function run(command, args, env = {}) {
  const t0 = Date.now();
  execFileSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return ((Date.now() - t0) / 1000).toFixed(1);
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  // Elsewhere (a developer's Mac, the release workflow's runners): this machine's own only.
  run(prebuildify, ['--napi', '--strip']);
  process.exit(0);
}

if (wanted('win32-x64')) {
  if (!have('x86_64-w64-mingw32-g++-posix')) fail('win32-x64 needs mingw-w64 (apt-get install mingw-w64)');
  const { build } = await import('./windows/build.mjs');
  await build();
}

if (wanted('linux-arm64')) {
  for (const tool of ['aarch64-linux-gnu-g++', 'aarch64-linux-gnu-strip']) {
    if (!have(tool)) fail(`linux-arm64 needs ${tool} (apt-get install g++-aarch64-linux-gnu)`);
  }
  const s = run(prebuildify, ['--napi', '--strip', '--arch', 'arm64'], {
    CC: 'aarch64-linux-gnu-gcc',
    CXX: 'aarch64-linux-gnu-g++',
    LINK: 'aarch64-linux-gnu-g++',
    AR: 'aarch64-linux-gnu-ar',
    PREBUILD_STRIP_BIN: 'aarch64-linux-gnu-strip',
  });
  console.error(`prebuild: linux-arm64 in ${s} s`);
}

if (wanted('linux-x64')) {
  const s = run(prebuildify, ['--napi', '--strip']);
  console.error(`prebuild: linux-x64 in ${s} s`);
}

for (const dir of ['linux-x64', 'linux-arm64', 'win32-x64'].filter(wanted)) {
  const files = fs.existsSync(path.join(root, 'prebuilds', dir))
    ? fs.readdirSync(path.join(root, 'prebuilds', dir))
    : [];
  if (!files.some((f) => f.endsWith('.node'))) fail(`prebuilds/${dir} has no addon`);
  console.error(`prebuild: prebuilds/${dir}/${files.join(', ')}`);
}
