#!/usr/bin/env node
// Cross-compiles the addon for Windows x64 with mingw-w64 into
// prebuilds/win32-x64/overseer.node, the name node-gyp-build picks for win32-x64 (an
// untagged *.node file matches any runtime and ABI, as prebuildify --napi names it).
//
// - Sources and defines come from binding.gyp (the common list plus the OS=='win' section).
// - Node-API is imported from "node.exe" through a delay-load import library made with
//   dlltool from node-api-headers' def/node_api.def; native/win32_delay_load_hook.cc points
//   that load at the running executable, so no node.lib is needed and a renamed host works.
// - libuv's uv.h comes from the building node's own headers (include/node); the libuv
//   functions the addon calls are exported by node.exe (uv_open_osfhandle is resolved at
//   run time with GetProcAddress).
// - Objects are cached by a hash of their inputs, so a rebuild with no change only links.
//
// Usage: node scripts/windows/build.mjs [--out <file>]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  cacheDir,
  cpuCount,
  fail,
  firstExisting,
  log,
  nodeApiHeaders,
  root,
  runSync,
  which,
} from './common.mjs';

const require = createRequire(import.meta.url);
const TRIPLE = 'x86_64-w64-mingw32';

function tool(name) {
  const found = which(`${TRIPLE}-${name}`);
  if (found === undefined) fail(`${TRIPLE}-${name} not found: apt-get install -y mingw-w64`);
  return found;
}

/** binding.gyp is JSON plus '#' comments; returns { sources, defines } for OS=='win'. */
function readBindingGyp() {
  const text = fs
    .readFileSync(path.join(root, 'binding.gyp'), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  let gyp;
  try {
    gyp = JSON.parse(text.replace(/,(\s*[}\]])/g, '$1'));
  } catch (err) {
    fail(`cannot parse binding.gyp as JSON: ${err.message}`);
  }
  const target = gyp.targets.find((t) => t.target_name === 'overseer');
  const sources = [...target.sources];
  const defines = [...(target.defines ?? [])];
  for (const [condition, section] of target.conditions ?? []) {
    if (condition.replace(/\s/g, '') !== "OS=='win'") continue;
    sources.push(...(section.sources ?? []));
    defines.push(...(section.defines ?? []));
  }
  return { sources, defines };
}

/** The directory holding uv.h and uv/win.h (Node's own headers, any recent version). */
function uvIncludeDir() {
  const version = process.version.slice(1);
  const dir = firstExisting(
    [
      process.env.OVERSEER_UV_INCLUDE,
      path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
      path.join(os.homedir(), '.cache', 'node-gyp', version, 'include', 'node'),
      '/usr/local/include/node',
      '/usr/include/node',
    ].filter((d) => d !== undefined && fs.existsSync(path.join(d, 'uv', 'win.h'))),
  );
  if (dir === undefined) {
    fail("no uv.h with uv/win.h found: install Node's headers (include/node) or set OVERSEER_UV_INCLUDE");
  }
  return dir;
}

/** A delay-load import library for node.exe: Node-API plus the libuv calls errors.cc makes. */
function importLibrary(headers, outDir) {
  const def = fs.readFileSync(path.join(headers, 'def', 'node_api.def'), 'utf8').trimEnd();
  const full = `${def}\nuv_err_name_r\nuv_strerror_r\n`;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 16);
  const lib = path.join(outDir, `libnode-delay-${hash}.a`);
  if (!fs.existsSync(lib)) {
    const defFile = path.join(outDir, `node-${hash}.def`);
    fs.writeFileSync(defFile, full);
    runSync(tool('dlltool'), ['--input-def', defFile, '--output-delaylib', `${lib}.tmp`]);
    fs.renameSync(`${lib}.tmp`, lib);
  }
  return lib;
}

async function compileAll(jobs) {
  const { spawn } = await import('node:child_process');
  const queue = [...jobs];
  const failures = [];
  async function worker() {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) {
      const { cxx, args, obj, source } = job;
      const code = await new Promise((resolve) => {
        const child = spawn(cxx, args, { stdio: ['ignore', 'inherit', 'inherit'] });
        child.on('exit', (c) => resolve(c));
        child.on('error', () => resolve(-1));
      });
      if (code === 0) fs.renameSync(`${obj}.tmp`, obj);
      else failures.push(source);
    }
  }
  await Promise.all(Array.from({ length: Math.min(cpuCount(), jobs.length) }, worker));
  if (failures.length > 0) fail(`compile failed: ${failures.join(', ')}`);
}

export async function build({ out = path.join(root, 'prebuilds', 'win32-x64', 'overseer.node') } = {}) {
  const started = Date.now();
  const cxx = tool('g++-posix');
  const headers = nodeApiHeaders();
  const addonApi = path.dirname(require.resolve('node-addon-api/package.json'));
  const uvDir = uvIncludeDir();
  const objDir = path.join(cacheDir, 'obj');
  fs.mkdirSync(objDir, { recursive: true });

  const { sources, defines } = readBindingGyp();
  sources.push('native/win32_delay_load_hook.cc');
  const flags = [
    '-std=gnu++17',
    '-O2',
    '-Wall',
    '-Wno-unused-parameter',
    '-fexceptions',
    ...[...defines, 'BUILDING_NODE_EXTENSION', 'OVERSEER_MINGW_DELAY_LOAD', '_WIN32_WINNT=0x0602'].map(
      (d) => `-D${d}`,
    ),
    // node-api-headers first: its node_api.h wins over the one beside uv.h.
    `-I${path.join(headers, 'include')}`,
    `-I${addonApi}`,
    `-I${uvDir}`,
  ];

  // Every header the sources could include is part of each object's key.
  const headerText = fs
    .readdirSync(path.join(root, 'native'))
    .filter((f) => f.endsWith('.h'))
    .sort()
    .map((f) => fs.readFileSync(path.join(root, 'native', f), 'utf8'))
    .join('\0');
  const compilerId = runSync(cxx, ['--version']).split('\n')[0];
  const addonApiVersion = require('node-addon-api/package.json').version;
  const headersVersion = JSON.parse(fs.readFileSync(path.join(headers, 'package.json'), 'utf8')).version;

  const jobs = [];
  const objects = [];
  for (const source of sources) {
    const text = fs.readFileSync(path.join(root, source), 'utf8');
    const key = createHash('sha256')
      .update(
        [compilerId, addonApiVersion, headersVersion, uvDir, flags.join(' '), headerText, text].join('\0'),
      )
      .digest('hex')
      .slice(0, 20);
    const obj = path.join(objDir, `${path.basename(source, '.cc')}-${key}.o`);
    objects.push(obj);
    if (fs.existsSync(obj)) continue;
    jobs.push({ cxx, source, obj, args: [...flags, '-c', path.join(root, source), '-o', `${obj}.tmp`] });
  }
  // Objects of earlier versions of these sources are stale now.
  const current = new Set(objects.map((o) => path.basename(o)));
  const stems = new Set(sources.map((s) => path.basename(s, '.cc')));
  for (const file of fs.readdirSync(objDir)) {
    const stem = file.replace(/-[0-9a-f]{20}\.o(\.tmp)?$/, '');
    if (stem !== file && stems.has(stem) && !current.has(file))
      fs.rmSync(path.join(objDir, file), { force: true });
  }
  if (jobs.length > 0) {
    log(`compiling ${jobs.map((j) => path.basename(j.source)).join(', ')}`);
    await compileAll(jobs);
  }

  const lib = importLibrary(headers, objDir);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  runSync(cxx, ['-shared', '-static', '-s', '-o', tmp, ...objects, lib, '-ladvapi32', '-lkernel32']);
  fs.renameSync(tmp, out);
  log(`built ${path.relative(root, out)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : undefined;
  build(out === undefined ? {} : { out }).catch((err) => fail(err.stack ?? String(err)));
}
