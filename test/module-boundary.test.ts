// Each process loads only its own rooms: a worker loads the worker side and the contract,
// never the master, the control socket, the fetchers or tar; a master without a fetcher
// loads no fetch pipeline; `import 'overseer'` loads neither side. Nor does a process compile
// what it has no use for on its way to ready: Node's IPv6 regular expression, only for an
// address that may be IPv6.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { addonFile } from '../src/os/addon-file.js';
import { AppProcess } from './support/app.js';
import { BUNDLE, CLI, fixture, ROOT, repoPath } from './support/paths.js';
import { node, stopAll } from './support/process.js';

const recorder = repoPath('test/support/record-modules.mjs');
/** The most files of dist/bundle a run() master may load (its start today, plus two). */
const MASTER_FILES = 11;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-modules-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Loaded {
  role: string;
  esm: string[];
  cjs: string[];
  builtins: string[];
  /** Every addon the process opened (required or dlopen()ed). */
  addons: string[];
  /** Each address the process asked net.isIPv6() about. */
  ipv6Checks: string[];
}

/** The modules in each file of the bundle (scripts/bundle.mjs writes it). */
const bundled = JSON.parse(fs.readFileSync(path.join(BUNDLE, 'modules.json'), 'utf8')) as Record<
  string,
  string[]
>;

/**
 * overseer's own modules, as paths below dist/src ('master/master-process.js'): each file of
 * dist/bundle a process loaded stands for the modules rollup put in it, and a test that loads
 * dist/src itself names them directly.
 */
function own(l: Loaded): string[] {
  return [...l.esm, ...l.cjs]
    .map((u) => (u.startsWith('file:') ? fileURLToPath(u) : u))
    .flatMap((p) => {
      const [, dir, file] = /[\\/]dist[\\/](src|bundle)[\\/](.*)$/.exec(p) ?? [];
      if (file === undefined) return [];
      const name = file.replaceAll('\\', '/');
      return dir === 'src' ? [name] : (bundled[name] ?? [`${name} (not in modules.json)`]);
    });
}

/** The builtins a script loaded by the time it printed them (`{ event: 'builtins' }`). */
async function builtinsOf(name: string, source: string): Promise<string[]> {
  const script = path.join(fs.mkdtempSync(path.join(tmp, 'builtins-')), name);
  fs.writeFileSync(script, source);
  const p = node(script, [], { label: name });
  const { builtins } = (await p.nth('builtins', 1)) as unknown as { builtins: string[] };
  await p.stop();
  return builtins;
}
/** The builtins loaded so far, as an expression in a script's source. */
const BUILTINS = `process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))`;
const PRINT_BUILTINS = `console.log(JSON.stringify({ event: 'builtins', builtins: ${BUILTINS} }));`;

/**
 * What a bare http server loads on this Node, without overseer: from a file, forked with an IPC
 * channel, as a worker is started.
 */
function bareHttpBuiltins(): Promise<string[]> {
  return builtinsOf(
    'bare.mjs',
    `import http from 'node:http';
if (process.send === undefined) {
  const { fork } = await import('node:child_process');
  fork(process.argv[1], { stdio: 'inherit' });
} else {
  http.createServer((_, res) => res.end()).listen(0, '127.0.0.1', () => {
    ${PRINT_BUILTINS}
    process.exit(0);
  });
}
`,
  );
}

/** The builtins a script loaded that a bare http server (above) does not. */
async function beyondBareHttp(name: string, source: string): Promise<string[]> {
  const bare = await bareHttpBuiltins();
  return (await builtinsOf(name, source)).filter((m) => !bare.includes(m));
}

const rooms = (l: Loaded, ...names: string[]): string[] =>
  own(l).filter((p) => names.some((n) => p.startsWith(`${n}/`)));
/** The files of dist/bundle a process loaded. */
const bundleFiles = (l: Loaded): string[] =>
  l.esm
    .map((u) => (u.startsWith('file:') ? fileURLToPath(u) : u))
    .filter((p) => /[\\/]dist[\\/]bundle[\\/]/.test(p));
/** The same, as paths below dist/bundle ('chunks/base.js'), sorted. */
const bundleFileNames = (l: Loaded): string[] =>
  bundleFiles(l)
    .map((p) => path.relative(BUNDLE, p).split(path.sep).join('/'))
    .sort();
/** A module bundled into two files is loaded from one of them only. */
function eachModuleOnce(l: Loaded): void {
  const mods = own(l);
  assert.deepEqual(
    mods.filter((m, i) => mods.indexOf(m) !== i),
    [],
    `a ${l.role} loaded a module twice: ${bundleFiles(l).join(', ')}`,
  );
}
/**
 * net.isIPv6() compiles Node's IPv6 regular expression at its first call (3.5 to 4.7 ms on the
 * bench host): an address with no colon is no IPv6 one, and needs no asking.
 */
function noIPv6RegexForIPv4(l: Loaded): void {
  assert.deepEqual(
    l.ipv6Checks.filter((a) => !a.includes(':')),
    [],
    `a ${l.role} asked net.isIPv6() about an address with no colon`,
  );
}
/** What every record of a process must show, whatever the process. */
function everyRecordHolds(loaded: Loaded[]): void {
  for (const l of loaded) {
    eachModuleOnce(l);
    noIPv6RegexForIPv4(l);
  }
}
const tar = (l: Loaded): string[] => l.cjs.concat(l.esm).filter((p) => /node_modules[\\/]tar[\\/]/.test(p));

test('a worker loads no master, control-socket, fetcher or upgrade module, and no tar', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'run-'));
  const a = new AppProcess(
    { overseer: { address: '127.0.0.1:0' } },
    { nodeArgs: [`--import=${recorder}`], env: { RECORD_MODULES_DIR: dir } },
  );
  await a.nth('ready', 1);
  await a.stop();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  const loaded = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Loaded);
  const worker = loaded.find((l) => l.role === 'worker');
  const master = loaded.find((l) => l.role === 'master');
  assert.ok(worker && master, `records: ${files.join(', ')}`);
  assert.deepEqual(rooms(worker, 'master', 'control', 'fetcher', 'upgrade', 'cli', 'cluster'), []);
  assert.deepEqual(tar(worker), []);
  assert.ok(own(worker).includes('worker/start.js'), 'the record is of a real worker');
  // The addon this machine built, or the one prebuild for it, opens without node-gyp-build
  // (os/addon-file.ts: a few ms of each worker's start).
  if (addonFile(ROOT) !== undefined) {
    assert.deepEqual(
      worker.cjs.filter((p) => /node-gyp-build/.test(p)),
      [],
    );
  }
  // Node builtins the worker side has no use for, beyond what a bare http app loads on this
  // Node (22 loads crypto with http). (Not v8: the recorder's own loader hooks load it.)
  const bare = await bareHttpBuiltins();
  for (const m of ['crypto', 'tls', 'https', 'zlib', 'readline', 'assert', 'vm']) {
    assert.ok(!worker.builtins.includes(m) || bare.includes(m), `a worker loaded node:${m}`);
  }
  // A master without a fetcher loads no fetch pipeline, and no worker side.
  assert.deepEqual(rooms(master, 'fetcher', 'upgrade', 'worker'), []);
  assert.deepEqual(tar(master), []);
  assert.ok(
    !master.builtins.includes('zlib') || bare.includes('zlib'),
    'a master without a fetcher loaded zlib',
  );
  assert.ok(own(master).includes('master/supervisor.js'));
  // A few files each (scripts/bundle.mjs): Node resolves every import on the main thread, and
  // enough resolutions make its loader hot enough for V8's optimizing compiler, which costs a
  // process 3.6 MB (README, Benchmarks). What the master loads now, with a little room.
  const masterFiles = bundleFiles(master);
  assert.ok(
    masterFiles.length <= MASTER_FILES,
    `a master loads ${masterFiles.length} files of dist/bundle: ${masterFiles.join(', ')}`,
  );
  // A run() worker loads exactly three: its side is one file of its own (scripts/bundle.mjs),
  // each file being 1 to 1.5 ms of its start. Those modules also lie in other processes' files;
  // a process holds each once.
  assert.deepEqual(bundleFileNames(worker), ['chunks/base.js', 'chunks/w.js', 'index.js']);
  everyRecordHolds(loaded);
  // The master makes its sockets with the addon, however it opened it: the record sees addons.
  assert.ok(master.addons.length > 0, 'the record lists no addon of the master');
});

test("`import 'overseer'` loads neither side, and not the addon", () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'import-'));
  const entry = path.join(dir, 'entry.mjs');
  const index = pathToFileURL(path.join(BUNDLE, 'index.js')).href;
  fs.writeFileSync(entry, `await import(${JSON.stringify(index)});`);
  execFileSync(process.execPath, [`--import=${recorder}`, entry], {
    env: { ...process.env, RECORD_MODULES_DIR: dir },
  });
  const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  const loaded = JSON.parse(fs.readFileSync(path.join(dir, file!), 'utf8')) as Loaded;
  assert.deepEqual(
    rooms(loaded, 'master', 'worker', 'control', 'fetcher', 'upgrade', 'os/posix-sockets.js'),
    [],
  );
  assert.ok(!loaded.cjs.some((p) => p.endsWith('.node')), 'the addon is loaded on first use only');
  assert.deepEqual(loaded.addons, [], 'the addon is loaded on first use only');
  assert.ok(!loaded.builtins.includes('child_process') && !loaded.builtins.includes('http'));
});

test('an overseer/cluster worker loads only the worker side; its primary loads no worker side', async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'cluster-'));
  const a = new AppProcess(
    {},
    {
      script: fixture('cluster/cjs.cjs'),
      args: ['leave', 'disconnect'],
      nodeArgs: [`--import=${recorder}`],
      env: { RECORD_MODULES_DIR: dir },
    },
  );
  const report = await a.nth('report', 1);
  await a.exited;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  const loaded = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Loaded);
  const worker = loaded.find((l) => l.role === 'worker');
  const primary = loaded.find((l) => l.role === 'master');
  const seen = `records: ${files.join(', ')}; report: ${JSON.stringify(report)}; stderr: ${a.stderr.join('\n')}`;
  assert.ok(worker && primary, seen);
  assert.ok(own(worker).includes('cluster/child.js'), 'the record is of a real cluster worker');
  assert.deepEqual(rooms(worker, 'master', 'control', 'fetcher', 'upgrade', 'cli'), []);
  assert.deepEqual(
    own(worker).filter((p) => p === 'cluster/primary.js'),
    [],
  );
  assert.deepEqual(tar(worker), []);
  // Its side is one file too, the preload's ./child.js, beside base.js (it loaded six). The
  // program's own require('overseer/cluster') loads cluster/index.js and the file it imports
  // (which Node 20's require() of an ES module does not show the recorder's hooks).
  const program = ['cluster/index.js', 'chunks/ci-cp.js'];
  assert.deepEqual(
    bundleFileNames(worker).filter((f) => !program.includes(f)),
    ['chunks/base.js', 'cluster/child.js'],
  );
  assert.ok(own(primary).includes('cluster/primary.js'));
  assert.deepEqual(
    own(primary).filter((p) => p === 'cluster/child.js' || p.startsWith('worker/')),
    [],
  );
  assert.deepEqual(rooms(primary, 'fetcher', 'upgrade'), []);
  everyRecordHolds(loaded);
});

test("`overseer run`: the app's workers load the preload and the worker side only; the master loads none of the app", async () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'app-'));
  const master = node(
    CLI,
    [
      'run',
      '--ipc-path',
      path.join(dir, 'ctl.sock'),
      `--node-args=--import=${recorder}`,
      fixture('run/express.mjs'),
    ],
    {
      nodeArgs: [`--import=${recorder}`],
      env: { RECORD_MODULES_DIR: dir, PORT: '0' },
    },
  );
  await master.line(/listening on/, 0, 15_000);
  await sleep(500); // the recorder's loader thread logs what it saw a little later
  await master.stop();
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  const loaded = files.map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Loaded);
  const worker = loaded.find((l) => l.role === 'worker');
  const primary = loaded.find((l) => l.role === 'master');
  assert.ok(worker && primary, `records: ${fs.readdirSync(dir).join(', ')}; ${master.describe()}`);
  assert.ok(own(worker).includes('preload/app-worker.js'), 'the record is of a real app worker');
  assert.deepEqual(rooms(worker, 'master', 'control', 'fetcher', 'upgrade', 'cli', 'cluster'), []);
  assert.deepEqual(tar(worker), []);
  const express = (l: Loaded) => [...l.esm, ...l.cjs].filter((p) => /node_modules[\\/]express[\\/]/.test(p));
  assert.ok(express(worker).length > 0, 'the worker runs the app');
  // Its side is one file, its preload, beside base.js (it loaded seven).
  assert.deepEqual(bundleFileNames(worker), ['chunks/base.js', 'preload/index.js']);
  assert.deepEqual(express(primary), [], 'the master never loads it');
  assert.deepEqual(rooms(primary, 'preload', 'worker', 'cluster', 'fetcher', 'upgrade'), []);
  assert.ok(own(primary).includes('master/app-workers.js'));
  // node:http serves the control socket's API: until a client comes the master has no use for
  // it, as a node:cluster primary never does (issue #22).
  assert.ok(
    primary.builtins.includes('net') && !primary.builtins.includes('http'),
    'node:http before any client',
  );
  everyRecordHolds(loaded);
});

test('every file of the bundle is ASCII-only', () => {
  // V8 keeps each script's source for the life of the process, in two bytes a character once
  // it holds one character past ASCII (scripts/bundle.mjs).
  for (const file of Object.keys(bundled)) {
    const past = /^.*[\u0080-\uffff].*$/m.exec(fs.readFileSync(path.join(BUNDLE, file), 'utf8'));
    assert.equal(past, null, `${file}: ${past?.[0]}`);
  }
});

// Without the recorder, whose own loader hooks load node:module: what a run() worker has loaded
// once it is ready, beside a bare http server in a file, forked with an IPC channel as a
// worker is. Each builtin is compiled as the process starts (node:module with Node's
// source-map support 0.3 to 0.5 ms, node:os 0.2 to 0.3), so a worker loads only those its side
// uses: none but the one that gives its modules import.meta.
test('a run() worker loads no builtin that a bare http server does not', async () => {
  const index = pathToFileURL(path.join(BUNDLE, 'index.js')).href;
  const extra = await beyondBareHttp(
    'app.mjs',
    `import http from 'node:http';
import { run } from ${JSON.stringify(index)};
await run({
  address: '127.0.0.1:0',
  ipcPath: '',
  program: async (state) => {
    await state.serve(http.createServer((_, res) => res.end()));
    ${PRINT_BUILTINS}
  },
});
`,
  );
  assert.deepEqual(extra, ['internal/modules/esm/initialize_import_meta']);
});

// The same of an overseer/cluster worker whose program imports overseer/cluster, as a one-file
// cluster app's does: its preload has made the worker's side, so cluster/index.js has no module
// to require, and no node:module to require it with.
test('an overseer/cluster worker loads no builtin that a bare http server does not', async () => {
  const cluster = pathToFileURL(path.join(BUNDLE, 'cluster', 'index.js')).href;
  const extra = await beyondBareHttp(
    'cluster-app.mjs',
    `import http from 'node:http';
import cluster from ${JSON.stringify(cluster)};
if (cluster.isPrimary) {
  cluster.setupPrimary({ ipcPath: '' });
  cluster.fork().on('message', (builtins) => {
    console.log(JSON.stringify({ event: 'builtins', builtins }));
    cluster.disconnect();
  });
} else {
  http.createServer((_, res) => res.end()).listen(0, '127.0.0.1', () => {
    process.send(${BUILTINS});
  });
}
`,
  );
  assert.deepEqual(extra, ['internal/modules/esm/initialize_import_meta']);
});
