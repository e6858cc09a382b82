#!/usr/bin/env node
// Gathers what the many-core bench (bench/many-core.ts) needs on a machine with no network and
// no npm into one git-ignored folder, .many-core/, and prints its size (it must stay under
// 60 MiB). bench/README-many-core.md says how to use it.
//
//   node scripts/pack-many-core.mjs [--no-node] [--no-pm2] [--check]
//
// What goes in:
//   package.json, dist/bundle (what the package runs), dist/src (the modules the bench and its
//     helpers import directly), dist/bench and dist/test/support (no maps, no .d.ts); the addon
//     this checkout opens (its own build, or the one prebuild for this platform:
//     dist/src/os/addon-file.js) as build/Release/overseer.node;
//   node_modules: the runtime dependencies of package.json (node-gyp-build loads the addon;
//     node-addon-api is headers only and stays out), and pm2: the packages pm2's CLI, daemon
//     and cluster-mode workers load at run time, as found by running them here (start, reload,
//     kill) with a require hook, each package whole (less its docs and its own node_modules);
//   bin/wrk: the wrk binary with the shared libraries it links beyond the C library (lib/);
//   bin/node.xz: this node (the one the 2-core figures come from), compressed; run.sh unpacks it;
//   run.sh: runs the bench with them.
// --no-node leaves node out (the machine's own `node` then runs it), --no-pm2 leaves pm2 out
// (its rows then say it was not installed), --check runs a 1-round, 1-second bench from a copy
// of the folder outside the repo, with no node or wrk on the PATH, to prove that nothing it
// needs is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT_MIB = 60;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dest = path.join(root, '.many-core');
const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (!['--no-node', '--no-pm2', '--check'].includes(a)) {
    console.error(`usage: node scripts/pack-many-core.mjs [--no-node] [--no-pm2] [--check] (not ${a})`);
    process.exit(2);
  }
}
const say = (msg) => console.error(`[pack] ${msg}`);
const fail = (msg) => {
  console.error(`[pack] ${msg}`);
  process.exit(1);
};

for (const need of ['dist/bench/many-core.js', 'dist/bundle/index.js', 'dist/src/index.js']) {
  if (!fs.existsSync(path.join(root, need))) fail(`${need} is missing: run \`npm run compile\``);
}
// The addon overseer opens here (addon-file.ts: a local build first, else the one untagged
// prebuild for this platform), packed where either rule finds it first.
const { addonFile } = await import(new URL('../dist/src/os/addon-file.js', import.meta.url).href);
const addon = addonFile(root);
if (addon === undefined) {
  fail(
    `no plain addon for ${process.platform}-${process.arch}: run \`npx node-gyp rebuild\` (or \`npm run prebuild\`)`,
  );
}

// The compressed node survives a repack when it is the same node.
const nodeXz = path.join(dest, 'bin', 'node.xz');
const nodeStamp = `${process.version} ${fs.statSync(process.execPath).size}`;
const stampFile = `${nodeXz}.stamp`;
const keptNode = fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === nodeStamp;
const cache = path.join(os.tmpdir(), `overseer-pack-node-${process.pid}.xz`);
if (keptNode) fs.copyFileSync(nodeXz, cache);
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(path.join(dest, 'bin'), { recursive: true });

/** Copies a file or a folder, leaving out what `skip(relativePath, isDir)` says. */
function copy(from, to, skip = () => false, rel = '') {
  const st = fs.statSync(from);
  if (st.isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from)) {
      const r = rel ? `${rel}/${name}` : name;
      const isDir = fs.statSync(path.join(from, name)).isDirectory();
      if (!skip(r, isDir)) copy(path.join(from, name), path.join(to, name), skip, r);
    }
  } else {
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(from, to);
    fs.chmodSync(to, st.mode & 0o777);
  }
}

// The repo's own part.
const noMaps = (r) => r.endsWith('.map') || r.endsWith('.d.ts');
copy(path.join(root, 'package.json'), path.join(dest, 'package.json'));
copy(path.join(root, 'dist', 'bundle'), path.join(dest, 'dist', 'bundle'), noMaps);
copy(path.join(root, 'dist', 'src'), path.join(dest, 'dist', 'src'), noMaps);
copy(path.join(root, 'dist', 'bench'), path.join(dest, 'dist', 'bench'), noMaps);
// The bench starts processes and asks them over HTTP with the tests' own helpers.
copy(path.join(root, 'dist', 'test', 'support'), path.join(dest, 'dist', 'test', 'support'), noMaps);
say(`addon: ${path.relative(root, addon)}`);
copy(addon, path.join(dest, 'build', 'Release', 'overseer.node'));

// node_modules: a package whole, without its docs or its nested node_modules (each nested
// package that is needed is listed and copied on its own).
const modules = fs.realpathSync(path.join(root, 'node_modules'));
const packageSkip = (r, isDir) =>
  (isDir && (r === 'node_modules' || r.endsWith('/node_modules'))) || /\.(md|markdown|map|d\.ts)$/i.test(r);
function copyPackage(dir) {
  const rel = path.relative(modules, dir);
  if (rel.startsWith('..')) fail(`${dir} is outside node_modules`);
  copy(dir, path.join(dest, 'node_modules', rel), packageSkip);
}

/** The package folders that `name`'s dependencies resolve to, from package-lock.json, recursively. */
function lockClosure(names, skip) {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages;
  const resolve = (from, name) => {
    for (let base = from; ; ) {
      const p = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (lock[p]) return p;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const seen = new Set();
  const todo = names.filter((n) => !skip.has(n)).map((n) => resolve('', n));
  while (todo.length) {
    const p = todo.pop();
    if (!p || seen.has(p)) continue;
    seen.add(p);
    const e = lock[p];
    for (const d of Object.keys({ ...e.dependencies, ...e.optionalDependencies })) todo.push(resolve(p, d));
  }
  return [...seen].map((p) => path.join(modules, p.slice('node_modules/'.length)));
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const dir of lockClosure(Object.keys(pkg.dependencies ?? {}), new Set(['node-addon-api'])))
  copyPackage(dir);

/** The packages pm2 loads when it starts an app in cluster mode, reloads it and is killed. */
async function pm2Packages() {
  const trace = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-pack-trace-'));
  const hook = path.join(trace, 'hook.cjs');
  fs.writeFileSync(
    hook,
    `const fs = require('fs'); const Module = require('module');
const out = ${JSON.stringify(trace)} + '/' + process.pid + '.txt';
for (const ext of Object.keys(Module._extensions)) {
  const load = Module._extensions[ext];
  Module._extensions[ext] = function (m, file) { fs.appendFileSync(out, file + '\\n'); return load.apply(this, arguments); };
}
`,
  );
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${saved ?? ''} --require ${hook}`.trim();
  const { Pm2 } = await import(path.join(root, 'dist', 'bench', 'pm2.js'));
  const { freePort, waitForHttp } = await import(path.join(root, 'dist', 'bench', 'proc.js'));
  const pm = new Pm2();
  try {
    const port = await freePort();
    await pm.start({
      name: 'pack',
      script: path.join(root, 'dist', 'bench', 'apps', 'plain.js'),
      execMode: 'cluster',
      instances: 2,
      env: { PORT: String(port) },
    });
    await pm.online('pack', 2);
    await waitForHttp(port);
    await pm.reload('pack');
    await pm.cli(['jlist']);
  } finally {
    await pm.kill();
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
  const files = new Set();
  for (const f of fs.readdirSync(trace)) {
    if (!f.endsWith('.txt')) continue;
    for (const line of fs.readFileSync(path.join(trace, f), 'utf8').split('\n')) if (line) files.add(line);
  }
  fs.rmSync(trace, { recursive: true, force: true });
  const dirs = new Set();
  for (const f of files) {
    const m = /^(.*\/node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(fs.realpathSync(f));
    if (m) dirs.add(m[1]);
  }
  if (![...dirs].some((d) => d.endsWith('/node_modules/pm2')))
    fail('pm2 ran, but no pm2 module was seen loading');
  return [...dirs];
}

if (args.has('--no-pm2')) say('pm2 left out (--no-pm2): its rows will say it is not installed');
else if (!fs.existsSync(path.join(modules, 'pm2', 'bin', 'pm2'))) say('pm2 is not installed here: left out');
else {
  say('running pm2 (cluster mode: start, reload, kill) to see what it loads');
  const dirs = await pm2Packages();
  for (const dir of dirs) copyPackage(dir);
  say(`pm2: ${dirs.length} packages`);
}

// wrk, with the shared libraries it needs beyond the C library.
const wrk = process.env.BENCH_WRK || onPath('wrk');
if (!wrk) fail('wrk is not on the PATH: install it (Debian: apt-get install wrk) or set BENCH_WRK');
copy(fs.realpathSync(wrk), path.join(dest, 'bin', 'wrk.bin'));
const libc = /^(linux-vdso|ld-linux|libc|libm|libdl|libpthread|librt|libgcc_s)\b/;
for (const line of execFileSync('ldd', [wrk]).toString().split('\n')) {
  const m = /^\s*(\S+) => (\/\S+)/.exec(line);
  if (m && !libc.test(m[1])) copy(fs.realpathSync(m[2]), path.join(dest, 'lib', m[1]));
}
fs.writeFileSync(
  path.join(dest, 'bin', 'wrk'),
  `#!/bin/sh
# wrk with the libraries packed beside it (lib/), so that a machine without them runs it too.
here=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH="$here/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/bin/wrk.bin" "$@"
`,
  { mode: 0o755 },
);

// node, compressed (about a quarter of its size).
if (args.has('--no-node')) say("node left out (--no-node): run.sh will use the machine's own");
else if (keptNode) {
  fs.renameSync(cache, nodeXz);
  fs.writeFileSync(stampFile, nodeStamp);
} else {
  say(`compressing ${process.execPath} (${process.version}) with xz: about a minute on 2 cores`);
  const xz = spawnSync('xz', ['-T0', '-6', '-c', process.execPath], { maxBuffer: 256 << 20 });
  if (xz.status !== 0) fail(`xz failed: ${xz.stderr}`);
  fs.writeFileSync(nodeXz, xz.stdout);
  fs.writeFileSync(stampFile, nodeStamp);
}

fs.writeFileSync(
  path.join(dest, 'run.sh'),
  `#!/bin/sh
# The many-core bench from this folder (bench/README-many-core.md): the packed node (unpacked
# once into bin/node) or $NODE, the packed wrk or $BENCH_WRK; results in $OUT.
set -e
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "$NODE" ] && [ -f "$here/bin/node.xz" ]; then
  if [ ! -x "$here/bin/node" ]; then
    if command -v xz >/dev/null; then xz -dc "$here/bin/node.xz" >"$here/bin/node.part"
    else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$here/bin/node.xz" >"$here/bin/node.part"
    fi
    chmod +x "$here/bin/node.part" && mv "$here/bin/node.part" "$here/bin/node"
  fi
  NODE="$here/bin/node"
fi
export BENCH_WRK="\${BENCH_WRK:-$here/bin/wrk}"
exec "\${NODE:-node}" "$here/dist/bench/many-core.js"
`,
  { mode: 0o755 },
);

const du = (p) => {
  const st = fs.lstatSync(p);
  return st.isDirectory() ? fs.readdirSync(p).reduce((t, n) => t + du(path.join(p, n)), 0) : st.size;
};
const mib = du(dest) / 2 ** 20;
const part = (p) => `${(du(path.join(dest, p)) / 2 ** 20).toFixed(1)}`;
console.log(
  `${path.relative(root, dest)}/: ${mib.toFixed(1)} MiB (node_modules ${part('node_modules')}, dist ${part('dist')}, bin ${part('bin')}, lib ${fs.existsSync(path.join(dest, 'lib')) ? part('lib') : '0'})`,
);
if (mib >= LIMIT_MIB) fail(`over the ${LIMIT_MIB} MiB it must stay under`);

if (args.has('--check')) {
  // From a copy outside the repo, so that nothing resolves through the repo's own node_modules.
  const copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-many-core-check-'));
  try {
    copy(dest, copyDir);
    say(`--check: a 1-round, 1-second bench at W = 1 from ${copyDir}`);
    // A PATH with every command of this one but node's, as on a machine without node.
    const bin = path.join(copyDir, 'path');
    fs.mkdirSync(bin);
    for (const dir of (process.env.PATH ?? '').split(':')) {
      if (!dir || !fs.existsSync(dir)) continue;
      for (const name of fs.readdirSync(dir)) {
        if (/^(node|nodejs|npm|npx|corepack|wrk)$/.test(name) || fs.existsSync(path.join(bin, name)))
          continue;
        fs.symlinkSync(path.join(dir, name), path.join(bin, name));
      }
    }
    const { NODE: _node, BENCH_WRK: _wrk, ...env } = process.env;
    const r = spawnSync('sh', [path.join(copyDir, 'run.sh')], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...env,
        PATH: bin,
        BENCH_ROUNDS: '1',
        BENCH_SECONDS: '1',
        BENCH_WORKERS: '1',
        OUT: path.join(copyDir, 'out'),
      },
      timeout: 300_000,
    });
    if (r.status !== 0) fail(`--check: run.sh exited ${r.status ?? r.signal}`);
    const results = JSON.parse(fs.readFileSync(path.join(copyDir, 'out', 'results.json'), 'utf8'));
    const failed = results.samples.filter((s) => s.error || s.restartError);
    for (const s of failed) say(`--check: ${s.id}: ${s.error ?? s.restartError}`);
    if (failed.length) fail('--check: some setups failed from the packed folder');
    say(`--check: ${results.samples.length} setups ran from the packed folder`);
  } finally {
    fs.rmSync(copyDir, { recursive: true, force: true });
  }
}

/** Where `name` is on the PATH, or '' where it is not. */
function onPath(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  return r.status === 0 ? r.stdout.toString().trim() : '';
}
