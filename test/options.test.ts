// The option table is the one place each option lives: the README's tables, --help, the
// Config type's stated defaults and DEFAULTS all agree with it, and every mistake names where
// the user typed it (run()'s config, a flag, a config file's field, the cluster's settings).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runUsage } from '../src/cli/option-docs.js';
import { runOptions } from '../src/cli/run-options.js';
import { checkOptions, resolveConfig } from '../src/config.js';
import { invalidFor } from '../src/errors.js';
import { DEFAULTS, flagName, OPTIONS, type OptionSpec, optionNames } from '../src/option-table.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-options-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const script = path.join(tmp, 'app.js');
fs.writeFileSync(script, '');

/** Rejects with a coded TypeError whose message matches `says`. */
async function mistake(run: () => unknown, says: RegExp): Promise<void> {
  await assert.rejects(
    async () => run(),
    (err: unknown) => {
      assert.ok(err instanceof TypeError, String(err));
      assert.equal((err as { code?: string }).code, 'ERR_OVERSEER_INVALID_CONFIG');
      assert.match(err.message, says);
      return true;
    },
  );
}

test('--help shows every flag of the table, and every config-file field without one', () => {
  const help = runUsage();
  for (const name of optionNames('flag')) assert.match(help, new RegExp(`--${flagName(name)}\\b`));
  for (const name of optionNames('file').filter((n) => !('flag' in OPTIONS[n]))) {
    assert.match(help, new RegExp(`^  ${name} `, 'm'));
  }
  assert.match(help, /^ {2}-w, --workers N +how many workers/m);
  // node's options begin with '-': only the joined form takes them, so that is the form shown.
  assert.match(help, /^ {6}--node-args="ARGS" +node's own options/m);
  assert.ok(
    help.split('\n').every((line) => line.length <= 90),
    'lines fit a terminal',
  );
});

test("the defaults Config's comments state are the table's, and DEFAULTS is the table's", () => {
  const source = fs.readFileSync(path.join(root, 'src', 'config.ts'), 'utf8');
  const body = /export interface Config \{([\s\S]*?)\n\}/.exec(source)![1]!;
  let stated = 0;
  for (const [, doc, field] of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+)\??:/g)) {
    const said = /Default (\S+?)[.,;]/.exec(doc!.replace(/\s*\*\s*/g, ' '))?.[1];
    if (said === undefined) continue;
    const value = (OPTIONS[field as keyof typeof OPTIONS] as OptionSpec).default;
    assert.equal(said, typeof value === 'string' ? `'${value}'` : String(value), `config.${field}`);
    stated++;
  }
  assert.ok(stated >= 10, `only ${stated} defaults found in Config's comments`);
  assert.equal(DEFAULTS.terminateTimeout, 30_000);
  assert.equal(DEFAULTS.readyTimeout, 30_000);
  assert.equal(DEFAULTS.upgradeGrace, 5_000);
  const resolved = resolveConfig({ program: () => {} }) as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(DEFAULTS)) {
    if (name in resolved) assert.deepEqual(resolved[name], value, name);
  }
});

test("run()'s config: each mistake names config.<field>", async () => {
  await mistake(() => resolveConfig(null), /^overseer: config must be an object/);
  await mistake(
    () => resolveConfig({ program() {}, healthAddress: 'nope' }),
    /^overseer: config\.healthAddress must be 'host:port'/,
  );
  await mistake(
    () => resolveConfig({ program() {}, address: ':1', addresses: [':2'] }),
    /^overseer: config\.address and config\.addresses cannot both be set/,
  );
});

test('a mistake shows the value as it was given: a string quoted, so "2" is not taken for 2', async () => {
  await mistake(
    () => resolveConfig({ program() {}, workers: '2' }),
    /^overseer: config\.workers must be an integer from 1 to \d+, got '2'$/,
  );
  await mistake(() => resolveConfig({ program() {}, workers: 2.5 }), /, got 2\.5$/);
  await mistake(
    () => resolveConfig({ program() {}, readyTimeout: '100' }),
    /^overseer: config\.readyTimeout must be a number of milliseconds .*, got '100'$/,
  );
  await mistake(() => resolveConfig({ program() {}, readyTimeout: { ms: 1 } }), /, got an object$/);
  await mistake(() => resolveConfig({ program() {}, restartSignal: 'SIGKILL' }), /, got 'SIGKILL'$/);
  const config = path.join(tmp, 'strings.config.json');
  fs.writeFileSync(config, JSON.stringify({ workers: '2' }));
  await mistake(
    () => runOptions(['--config', config, script]),
    /^overseer run: .*strings\.config\.json: workers must be an integer from 1 to \d+, got '2'$/,
  );
});

test('overseer run: a mistake names the flag, or the config file and its field', async () => {
  await mistake(
    () => runOptions(['--health-address', 'nope', script]),
    /^overseer run: --health-address must be 'host:port', ':port' or 'unix:\/path', got 'nope'$/,
  );
  await mistake(
    () => runOptions(['--health-address', 'unix:/tmp/x.sock', script]),
    /^overseer run: --health-address must be a TCP address/,
  );
  await mistake(() => runOptions(['--ipc-path', 'relative.sock', script]), /^overseer run: --ipc-path /);
  // The URL's check is made where the flag is read, so it names the flag, not a fetcher's option.
  await mistake(
    () => runOptions(['--fetch-url', 'notaurl', script]),
    /^overseer run: --fetch-url must be an absolute http\(s\) URL, got 'notaurl'$/,
  );
  await mistake(
    () => runOptions(['--fetch-file', script, '--fetch-url', 'http://127.0.0.1/', script]),
    /^overseer run: --fetch-file and --fetch-url cannot both be set/,
  );
  const config = path.join(tmp, 'overseer.config.json');
  fs.writeFileSync(config, JSON.stringify({ healthAddress: 'nope' }));
  await mistake(
    () => runOptions(['--config', config, script]),
    /^overseer run: .*overseer\.config\.json: healthAddress must be 'host:port'/,
  );
  fs.writeFileSync(config, JSON.stringify({ fetchUrl: 'ftp://example.com/app.js' }));
  await mistake(
    () => runOptions(['--config', config, script]),
    /^overseer run: .*overseer\.config\.json: fetchUrl must use http: or https:, got ftp:$/,
  );
  // A rule between two fields names each where it was set.
  fs.writeFileSync(config, JSON.stringify({ fetchFile: script }));
  await mistake(
    () => runOptions(['--config', config, '--fetch-url', 'http://127.0.0.1/', script]),
    /^overseer run: .*overseer\.config\.json: fetchFile and --fetch-url cannot both be set/,
  );
  const joined = await runOptions(['--node-args=--max-old-space-size=256 --no-deprecation', script]);
  assert.ok(joined !== 'help');
  assert.deepEqual(joined.app.nodeArgs, ['--max-old-space-size=256', '--no-deprecation']);
  fs.writeFileSync(config, JSON.stringify({ workers: 2, nodeArgs: '--a --b', ready: 'none' }));
  const o = await runOptions(['--config', config, '--log-lines', '7', script]);
  assert.ok(o !== 'help');
  assert.equal(o.engine.workers, 2);
  assert.deepEqual(o.app.nodeArgs, ['--a', '--b']);
  assert.equal(o.app.ready, 'none');
  assert.equal(o.app.logLines, 7);
  assert.equal(o.engine.terminateTimeout, DEFAULTS.terminateTimeout);
  // 'max' in the file, as after -w: one worker per CPU.
  fs.writeFileSync(config, JSON.stringify({ workers: 'max' }));
  const max = await runOptions(['--config', config, script]);
  assert.ok(max !== 'help');
  assert.equal(max.engine.workers, os.availableParallelism());
});

test('overseer run: a .js config file is loaded as Node loads it, CommonJS in a "type": "commonjs" package', async () => {
  const pkg = fs.mkdtempSync(path.join(tmp, 'commonjs-'));
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ type: 'commonjs' }));
  const config = path.join(pkg, 'overseer.config.js');
  fs.writeFileSync(config, 'module.exports = { workers: 3 };\n');
  const o = await runOptions(['--config', config, script]);
  assert.ok(o !== 'help');
  assert.equal(o.engine.workers, 3);
  // There, `export default` is a syntax error, reported as the file's.
  const esm = path.join(pkg, 'esm.config.js');
  fs.writeFileSync(esm, 'export default { workers: 3 };\n');
  await mistake(
    () => runOptions(['--config', esm, script]),
    /^overseer run: .*esm\.config\.js: cannot be read: /,
  );
});

test('overseer run: --fetch-manifest reads the fetch URL or file as a release manifest; --fleet-id names the master', async () => {
  await mistake(
    () => runOptions(['--fetch-manifest', script]),
    /^overseer run: --fetch-manifest needs --fetch-file or --fetch-url \(fetchFile or fetchUrl in a config file\)$/,
  );
  // So does an interval: with nothing to fetch it would mean nothing.
  await mistake(
    () => runOptions(['--fetch-interval', '500', script]),
    /^overseer run: --fetch-interval needs --fetch-file or --fetch-url \(fetchFile or fetchUrl in a config file\)$/,
  );
  const o = await runOptions([
    '--fetch-url',
    'http://127.0.0.1/manifest.json',
    '--fetch-manifest',
    '--fleet-id',
    'web-7',
    script,
  ]);
  assert.ok(o !== 'help');
  assert.deepEqual(o.fetch, { url: 'http://127.0.0.1/manifest.json', manifest: true });
  assert.equal(o.engine.fleetId, 'web-7');
  const config = path.join(tmp, 'fleet.config.json');
  fs.writeFileSync(config, JSON.stringify({ fetchManifest: true, fleetId: 'web-8' }));
  const f = await runOptions(['--config', config, '--fetch-file', script, script]);
  assert.ok(f !== 'help');
  assert.equal(f.fetch.manifest, true);
  assert.equal(f.engine.fleetId, 'web-8');
  assert.equal(resolveConfig({ program() {} }).fleetId, undefined, "by default, made from the machine's id");
  await mistake(
    () => resolveConfig({ program() {}, fleetId: '' }),
    /^overseer: config\.fleetId must be a non-empty string/,
  );
});

test('checkOptions: a subset of the table, resolved, with the caller naming its mistakes', async () => {
  const invalid = invalidFor('overseer/cluster', 'settings.');
  const names = ['terminateTimeout', 'readyTimeout', 'upgradeGrace', 'ipcPath'] as const;
  assert.deepEqual(checkOptions({ readyTimeout: 5 }, names, invalid), {
    terminateTimeout: 30_000,
    readyTimeout: 5,
    upgradeGrace: 5_000,
    ipcPath: undefined,
  });
  await mistake(
    () => checkOptions({ terminateTimeout: 0 }, names, invalid),
    /^overseer\/cluster: settings\.terminateTimeout must be a number of milliseconds \(1 to/,
  );
  await mistake(
    () => checkOptions({ ipcPath: 'x' }, names, invalid),
    /^overseer\/cluster: settings\.ipcPath/,
  );
});

test('--node-args is split into words as node splits NODE_OPTIONS: double quotes keep spaces, a backslash in them escapes', async () => {
  const o = await runOptions([
    '--node-args=--title="my app" --max-old-space-size=64 "" --require "./a dir/x \\"q\\".js"',
    script,
  ]);
  assert.ok(o !== 'help');
  assert.deepEqual(o.app.nodeArgs, [
    '--title=my app',
    '--max-old-space-size=64',
    '--require',
    './a dir/x "q".js',
  ]);
  await mistake(
    () => runOptions(['--node-args=--title="my app', script]),
    /^overseer run: --node-args has a " that is not closed, got '--title=/,
  );
});
