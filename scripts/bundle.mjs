// Builds what the package runs, dist/bundle/, from tsc's dist/src/ (issue #22): six to nine files
// per process instead of about 60 modules. Node 20 resolves each ESM import on the main thread,
// walking every character of the file's path; a master's ~150 resolutions made the loader's own
// path and URL functions hot enough for TurboFan, whose first compile costs a process 3.6 MiB
// of RSS, and every module costs start-up time (README, Benchmarks).
//
// Each module goes into the chunk named after the roles whose static import graph holds it
// (`import 'overseer'`, a run() master, a run() worker, `overseer run`'s master and app
// worker, an overseer/cluster primary and worker, the fetchers, the testing kit), so a process
// loads the modules it loaded before, in a few files: a worker never loads a module of the
// master's. The entries that are not kinds of process may load a few modules more, where that
// spares the kinds of process a file (chunkName). What only a dynamic import reaches (the
// upgrader, the CLI's commands...) keeps rollup's own chunking, so it is still loaded only when
// used; the few lazy imports every master takes as it starts (MASTER_EAGER) count as a master's
// static ones. A run() worker's side is built apart, as one file (runWorkerFile).
//
// Every chunk lies one folder below dist/bundle/, as every module lies one below dist/src/,
// so a module's `new URL('../preload/index.js', import.meta.url)` names the same entry in
// both. dist/bundle/modules.json lists the modules of each file (test/module-boundary.test.ts).
// Node's builtins are taken with process.getBuiltinModule() (builtinsWithoutFacades). Types
// stay in dist/src/*.d.ts. Usage: node scripts/bundle.mjs (after tsc).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { rollup } from 'rollup';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = path.join(root, 'dist', 'src');
const out = path.join(root, 'dist', 'bundle');

/** The package's entry points, each at the path it has under dist/src. */
const ENTRIES = [
  'index',
  'cli/main',
  'cluster/index',
  'cluster/child',
  'cluster/primary',
  'fetcher/index',
  'testing/index',
  'preload/index',
];

/**
 * Where the graph of each kind of process starts (an entry point, or the dynamic import that
 * starts that side), and of each other entry point. A module's chunk is named after the set of
 * these that load it statically; what `import 'overseer'` loads is one chunk of its own,
 * `base`, since every run() process and most programs load it whole.
 */
const BASE = 'index';
const ROLES = {
  // Short, as the loader walks every character of each file's URL several times.
  rm: 'master/start', // run()'s master
  rw: 'worker/start', // run()'s worker
  am: 'cli/run-command', // `overseer run`'s master
  aw: 'preload/index', // `overseer run`'s app worker
  cp: 'cluster/primary', // overseer/cluster's primary
  cw: 'cluster/child', // overseer/cluster's worker
  c: 'cli/main', // the `overseer` command
  ci: 'cluster/index', // overseer/cluster, which then loads cp or cw
  f: 'fetcher/index', // overseer/fetcher
  t: 'testing/index', // overseer/testing
};

const MASTERS = new Set(['rm', 'am', 'cp']);
const WORKERS = new Set(['rw', 'aw', 'cw']);

/**
 * The chunk of a module that `roles` load. Every file is one more for a process to load (a
 * run() worker's side: eight files in 7.3 ms, four in 4.6; README, Benchmarks), so the entries
 * that are not kinds of process split no file off where that costs a process a file:
 * - what both a master and a worker load (the contract, the OS seam, the config) is no room
 *   of either side's, so any entry may load it with the rest;
 * - the testing kit runs in tests, where a few more modules cost nothing: it takes whichever
 *   files hold its modules.
 */
function chunkName(roles) {
  const kinds = roles.filter((r) => MASTERS.has(r) || WORKERS.has(r));
  const bothSides = kinds.some((r) => MASTERS.has(r)) && kinds.some((r) => WORKERS.has(r));
  const kept = bothSides ? kinds : kinds.length > 0 ? roles.filter((r) => r !== 't') : roles;
  return kept.sort().join('-');
}

const file = (name) => path.join(src, `${name}.js`);
const own = (id) => id.startsWith(src + path.sep);
const rel = (id) => path.relative(src, id).split(path.sep).join('/');

/**
 * What every master imports lazily but always, as it starts on its platform: the platform's
 * sockets and control socket. A master's chunks hold them, instead of a file each.
 */
const MASTER_EAGER = new Set(
  [
    'control/control-socket',
    'control/http-api',
    'control/ipc/posix',
    'control/ipc/windows',
    'os/posix-sockets',
    'os/posix-handoff',
    'os/linux-reaper',
    'os/windows-sockets',
  ].map(file),
);

/** The import graph of `start` within dist/src: its static imports, and `eager` dynamic ones. */
function closure(start, info, eager = new Set()) {
  const seen = new Set();
  const walk = (id) => {
    if (seen.has(id) || !own(id)) return;
    seen.add(id);
    const m = info(id);
    for (const dep of m?.importedIds ?? []) walk(dep);
    for (const dep of m?.dynamicallyImportedIds ?? []) if (eager.has(dep)) walk(dep);
  };
  walk(file(start));
  return seen;
}

let rolesOf;
function chunkOf(id, { getModuleInfo }) {
  // An entry module stays in its own file: some run at load (the CLI, the preloads), and
  // overseer/cluster's require()s ./child.js or ./primary.js beside itself.
  if (!own(id) || ENTRIES.includes(rel(id).replace(/\.js$/, ''))) return undefined;
  if (!rolesOf) {
    rolesOf = new Map();
    for (const m of closure(BASE, getModuleInfo)) rolesOf.set(m, ['base']);
    for (const [role, start] of Object.entries(ROLES)) {
      for (const m of closure(start, getModuleInfo, MASTERS.has(role) ? MASTER_EAGER : undefined)) {
        const roles = rolesOf.get(m) ?? [];
        if (roles[0] !== 'base') rolesOf.set(m, [...roles, role]);
      }
    }
  }
  const roles = rolesOf.get(id);
  return roles ? chunkName(roles) : undefined;
}

/**
 * Node's builtins through process.getBuiltinModule() (Node 20.16 and later; the package needs
 * 20.19), not `import`. Importing a builtin makes its ES module facade, which reads every one
 * of its exports and so loads what their lazy getters put off: node:util's parseArgs and
 * MIMEType, node:net's BlockList, node:fs's streams, node:module's SourceMap. Measured on a
 * master's nine builtins: 0.5 MiB of RSS and about 1 ms less (README, Benchmarks). One line
 * stays one line, so the source maps still hold.
 */
const IMPORT_BUILTIN = /^import (?:([\w$]+)(?:, )?)?(?:\{ ([^}]*) \})? from '(node:[\w/]+)';$/gm;
const builtinsWithoutFacades = {
  name: 'builtins-without-facades',
  renderChunk(code, chunk) {
    const out = code.replace(IMPORT_BUILTIN, (_, name, named, id) => {
      const load = `process.getBuiltinModule('${id}')`;
      const fields = named?.replace(/ as /g, ': ');
      if (name && fields) return `const ${name} = ${load}, { ${fields} } = ${name};`;
      return name ? `const ${name} = ${load};` : `const { ${fields} } = ${load};`;
    });
    const left = /^import\b.*'node:/m.exec(out);
    if (left)
      throw new Error(
        `bundle: ${chunk.fileName}: an import of a builtin this build cannot rewrite: ${left[0]}`,
      );
    return { code: out, map: null };
  },
};

/**
 * Each file ASCII-only and without most comments (esbuild). V8 keeps every script's source for
 * as long as the process lives, in two bytes a character once it holds a single character past
 * ASCII (an arrow in a comment is one): a settled master was 0.2 MiB smaller this way (README,
 * Benchmarks). esbuild keeps the comments of class members and object properties;
 * what is left past ASCII is in those, on lines of their own, and is escaped there, so the
 * source maps hold.
 */
const PAST_ASCII = /[\u0080-\uffff]/g;
const COMMENT_LINE = /^\s*(?:\/\/|\/\*|\*)/;
const asciiWithoutComments = {
  name: 'ascii-without-comments',
  async renderChunk(code, chunk) {
    const done = await transform(code, {
      charset: 'ascii',
      legalComments: 'none',
      format: 'esm',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: chunk.fileName,
    });
    const escaped = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    const lines = done.code
      .split('\n')
      .map((line) => (COMMENT_LINE.test(line) ? line.replace(PAST_ASCII, escaped) : line));
    // A line's search, not the global replace's (whose lastIndex would carry over).
    const pastAscii = new RegExp(PAST_ASCII.source);
    const left = lines.find((line) => pastAscii.test(line));
    if (left !== undefined)
      throw new Error(`bundle: ${chunk.fileName}: a character past ASCII outside a comment: ${left}`);
    return { code: lines.join('\n'), map: done.map };
  },
};

/**
 * Each kind of worker's side in one file beside base.js, built by a second pass (below): where
 * its modules lie in the first pass, shared with the masters and the other workers, a run()
 * worker's side took four files, 11 to 12 ms of its start against 4 to 5 for one, an `overseer
 * run` worker's seven and an overseer/cluster worker's six, 4.9 and 5.4 ms more than one
 * (README, Benchmarks). The first pass still holds each side's modules, so that base.js exports
 * all the second pass takes from it.
 * - run()'s worker: what worker/start.js imports beyond `import 'overseer'`, as chunks/w.js;
 *   only run()'s import of it goes there (runWorkerFile).
 * - overseer/cluster's worker: cluster/child.js, which its preload and cluster/index.js load.
 * - `overseer run`'s app worker: its --import preload, preload/index.js.
 * `lazy` names the files of what a side imports lazily: its own, as they import from its file,
 * and beside it, so that one path to base.js serves them all.
 */
const ONE_FILE_SIDES = [
  { name: 'chunks/w', start: ROLES.rw, lazy: 'chunks/w-[name].js' },
  { name: 'cluster/child', start: ROLES.cw, lazy: 'cluster/cw-[name].js' },
  { name: 'preload/index', start: ROLES.aw, lazy: 'preload/aw-[name].js' },
];
const RUN_WORKER = file(ROLES.rw);
/** What run()'s import of it is, until the output names it ./w.js (beside base.js). */
const RUN_WORKER_ID = '\0run-worker';
let runWorkerRef;
const runWorkerFile = {
  name: 'run-worker-file',
  buildStart() {
    runWorkerRef = this.emitFile({ type: 'chunk', id: RUN_WORKER });
  },
  generateBundle(_, files) {
    // Emitted to keep its graph (above), not to be loaded: rollup's file for it is left out.
    const name = this.getFileName(runWorkerRef);
    delete files[name];
    delete files[`${name}.map`];
  },
  async resolveDynamicImport(specifier, importer) {
    if (importer !== file('run') || typeof specifier !== 'string') return null;
    const resolved = await this.resolve(specifier, importer);
    return resolved?.id === RUN_WORKER ? { id: RUN_WORKER_ID, external: true } : null;
  },
};

// Node's builtins and the package's dependencies stay imports.
const dependency = (id, importer) => importer !== undefined && !id.startsWith('.') && !path.isAbsolute(id);
// Module order is kept: the cycles between modules are the ones tsc's output has.
function onwarn(warning, warn) {
  if (warning.code === 'CIRCULAR_DEPENDENCY') return;
  warn(warning);
  process.exitCode = 1;
}
const plugins = [builtinsWithoutFacades, asciiWithoutComments];
/** A builtin a file takes nothing from is not imported for its side effects: it has none. */
const treeshake = { moduleSideEffects: (id, external) => !(external && id.startsWith('node:')) };

const bundle = await rollup({
  input: Object.fromEntries(ENTRIES.map((e) => [e, file(e)])),
  external: dependency,
  treeshake,
  onwarn,
  plugins: [runWorkerFile],
});
fs.rmSync(out, { recursive: true, force: true });
const { output } = await bundle.write({
  dir: out,
  format: 'es',
  entryFileNames: '[name].js',
  chunkFileNames: 'chunks/[name].js',
  manualChunks: chunkOf,
  // A file imports what it uses, not what that imports in turn: each import is a resolution.
  hoistTransitiveImports: false,
  // Each export under its own name, so that the second pass can import base.js's by theirs.
  minifyInternalExports: false,
  sourcemap: true,
  plugins,
  paths: { [RUN_WORKER_ID]: './w.js' },
});
const asts = new Map(bundle.cache.modules.map((m) => [m.id, m.ast]));
await bundle.close();

// The second pass: each worker's side in one file, with what it takes of base.js imported from
// there (the one copy of each module a worker loads; module-boundary.test.ts). Each side is a
// pass of its own: rollup, given several inputs, would split what they share into files again.
const base = output.find((o) => o.fileName === 'chunks/base.js');
const inBase = new Set(Object.keys(base.modules));
const BASE_ID = '\0base';
/** How the file `fileName` imports base.js: './base.js', '../chunks/base.js'. */
function baseFrom(fileName) {
  const p = path.posix.relative(path.posix.dirname(fileName), base.fileName);
  return p.startsWith('.') ? p : `./${p}`;
}
for (const side of ONE_FILE_SIDES) {
  const pass = await rollup({
    input: { [side.name]: file(side.start) },
    external: dependency,
    treeshake,
    // The entry's own file holds what the lazy files (the control client, the master's sockets
    // on os/'s lazy paths) take from it: no second file that only re-exports it.
    preserveEntrySignatures: 'allow-extension',
    onwarn,
    plugins: [
      {
        name: 'from-base',
        async resolveId(source, importer) {
          if (importer === undefined || !source.startsWith('.')) return null;
          const resolved = await this.resolve(source, importer, { skipSelf: true });
          return resolved && inBase.has(resolved.id) ? { id: BASE_ID, external: true } : null;
        },
      },
    ],
  });
  const { output: sideOutput } = await pass.write({
    dir: out,
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: side.lazy,
    hoistTransitiveImports: false,
    sourcemap: true,
    plugins,
    paths: { [BASE_ID]: baseFrom(side.name) },
  });
  await pass.close();
  checkTakenFromBase(base, sideOutput);
  // The side's entry replaces the first pass's file of the same name (the preloads); no other
  // file may be written twice.
  for (const o of sideOutput) {
    const i = output.findIndex((f) => f.fileName === o.fileName);
    if (i >= 0 && o.fileName !== `${side.name}.js` && o.fileName !== `${side.name}.js.map`)
      throw new Error(`bundle: ${side.name}'s ${o.fileName} would overwrite another file`);
    if (i >= 0) output.splice(i, 1);
    output.push(o);
  }
}

/**
 * What the second pass imports from base.js by name is there, and is the module's it means:
 * no two of base.js's modules export one name (then rollup would rename one of them).
 */
function checkTakenFromBase(baseChunk, taken) {
  // base.js exports each binding under its variable's name; rollup renames one of two
  // variables of one name (`x$1`), and `export { a as b }` exports `a`: either would let an
  // import by name find another module's binding.
  const renamed = baseChunk.exports.filter((n) => /\$\d+$/.test(n));
  if (renamed.length > 0) throw new Error(`bundle: base.js exports renamed bindings: ${renamed.join(', ')}`);
  for (const id of inBase) {
    for (const node of asts.get(id)?.body ?? []) {
      if (node.type !== 'ExportNamedDeclaration') continue;
      for (const s of node.specifiers)
        if (s.local.name !== s.exported.name)
          throw new Error(`bundle: ${rel(id)} exports ${s.local.name} as ${s.exported.name}`);
    }
  }
  for (const o of taken) {
    if (o.type !== 'chunk') continue;
    const names = o.importedBindings[baseFrom(o.fileName)] ?? []; // keyed by the path it renders
    const missing = names.filter((n) => !baseChunk.exports.includes(n));
    if (missing.length > 0)
      throw new Error(`bundle: ${o.fileName} imports ${missing.join(', ')}, which base.js does not export`);
  }
}

// The CommonJS preload of overseer/cluster (tsc's .cjs) require()s ./child.js beside it.
fs.copyFileSync(path.join(src, 'cluster', 'preload.cjs'), path.join(out, 'cluster', 'preload.cjs'));

/**
 * The files no process loads: those of the first pass that only the worker sides' first-pass
 * files imported, before the second pass put each side in one file. What no entry point, nor a
 * side's file, reaches through imports and dynamic imports is removed, with its source map.
 */
function removeUnreached(files) {
  const chunks = new Map(files.filter((o) => o.type === 'chunk').map((o) => [o.fileName, o]));
  const reached = new Set();
  const visit = (name) => {
    const o = chunks.get(name);
    if (o === undefined || reached.has(name)) return;
    reached.add(name);
    for (const dep of [...o.imports, ...o.dynamicImports]) visit(dep);
  };
  for (const name of [...ENTRIES, ...ONE_FILE_SIDES.map((s) => s.name)]) visit(`${name}.js`);
  return files.filter((o) => {
    const name = o.type === 'chunk' ? o.fileName : o.fileName.replace(/\.map$/, '');
    if (!chunks.has(name) || reached.has(name)) return true;
    fs.rmSync(path.join(out, o.fileName));
    return false;
  });
}
const written = removeUnreached(output);

const modules = {};
for (const o of written) {
  if (o.type === 'chunk') modules[o.fileName] = Object.keys(o.modules).filter(own).map(rel).sort();
}
modules['cluster/preload.cjs'] = ['cluster/preload.cjs'];
fs.writeFileSync(path.join(out, 'modules.json'), `${JSON.stringify(modules, null, 2)}\n`);
if (process.exitCode) console.error('bundle: rollup warned (above)');
