// `overseer run`'s options: the command line and a config file (overseer.config.json or .js
// beside the script, or --config). Both hold options of the one table (option-table.ts): its
// flags and its config-file fields, with run()'s defaults and checks where they are run()'s.
// The command line wins. Each mistake is a coded TypeError naming the flag, or the file and
// its field.
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { checkOptions, type ResolvedConfig, resolveOptions } from '../config.js';
import { errorMessage, type InvalidFor, invalidFor } from '../errors.js';
import type { AppSettings } from '../master/app-workers.js';
import { flagName, OPTIONS, type OptionSpec, optionNames } from '../option-table.js';
import { type Options, onlyKnown } from '../options.js';
import { mustTrust } from '../trusted-file.js';
import { scriptPath } from './script-path.js';

/** The config file's fields (the option table's `file`). */
const FILE_FIELDS = optionNames('file');
/** The fields only `overseer run` has: the rest are run()'s, resolved as run() does. */
const APP_FIELDS = FILE_FIELDS.filter((f) => !('config' in OPTIONS[f]));
/** The command line's options, by flag: each an option of the table. */
const FLAGS = new Map(optionNames('flag').map((name) => [flagName(name), name] as const));

/** The command line's options, as parseArgs takes them. */
const RUN_FLAGS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  [...FLAGS].map(([flag, name]) => {
    const o: OptionSpec = OPTIONS[name];
    const short = typeof o.flag === 'object' ? o.flag.short : undefined;
    return [
      flag,
      { type: o.kind === 'boolean' ? 'boolean' : 'string', ...(short === undefined ? {} : { short }) },
    ];
  }),
);

/** The flags that take a value, as typed (`--workers`, `-w`), each with its long name. */
const VALUE_FLAGS = new Map<string, string>(
  Object.entries(RUN_FLAGS).flatMap(([flag, o]) =>
    o.type !== 'string'
      ? []
      : [[`--${flag}`, flag] as const, ...(o.short === undefined ? [] : [[`-${o.short}`, flag] as const])],
  ),
);

export interface RunOptions {
  app: AppSettings;
  engine: ResolvedConfig;
  fetch: { file?: string; url?: string; interval?: number; manifest: boolean };
  /** Where the options came from, for the log. */
  configFile: string | undefined;
}

/** A mistake in how the command was called (exit code 2, with the usage hint). */
export class RunUsageError extends Error {
  readonly usage = true;
}

/** An option's flag, as the user typed it: `--ready-timeout`. */
const invalidFlag = invalidFor('overseer run', (field) => `--${flagName(field)}`);
/** A field of the config file `file`: `overseer.config.json: workers`. */
const invalidIn = (file: string): InvalidFor =>
  invalidFor('overseer run', (field) => (field === '' ? `${file}:` : `${file}: ${field}`));

/**
 * Splits `overseer run`'s arguments: options up to the script (or up to `--`), the script,
 * and the script's own arguments (which may look like options: they are the app's). A `--`
 * right after the script is dropped too, as pm2 and npm take it (`script -- args`); the app
 * gets a `--` of its own as a second one.
 */
export function splitRunArgs(argv: readonly string[]): { options: string[]; rest: string[] } {
  const withoutDashes = (rest: readonly string[]): string[] =>
    rest[1] === '--' ? [rest[0]!, ...rest.slice(2)] : [...rest];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { options: argv.slice(0, i), rest: withoutDashes(argv.slice(i + 1)) };
    if (!a.startsWith('-') || a === '-')
      return { options: argv.slice(0, i), rest: withoutDashes(argv.slice(i)) };
    if (VALUE_FLAGS.has(a)) i++;
  }
  return { options: [...argv], rest: [] };
}

/** The command line as option fields (numbers as numbers where they read as one). */
function fromCommandLine(options: string[]): { fields: Options; config: string | undefined; help: boolean } {
  // `--flag value` as `--flag=value`: parseArgs calls a value that starts with a dash
  // (`--drain-delay -1`) ambiguous, where it is the flag's value, and its check's to refuse.
  const joined: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const flag = VALUE_FLAGS.get(options[i]!);
    joined.push(flag !== undefined && i + 1 < options.length ? `--${flag}=${options[++i]}` : options[i]!);
  }
  const { values } = parseArgs({ args: joined, options: RUN_FLAGS, strict: true, allowPositionals: false });
  const fields: Options = {};
  for (const [flag, value] of Object.entries(values)) {
    const name = FLAGS.get(flag);
    if (name === undefined || value === undefined) continue;
    const kind = OPTIONS[name].kind;
    if (
      (kind === 'duration' || kind === 'integer') &&
      typeof value === 'string' &&
      /^\d+(\.\d+)?$/.test(value)
    )
      fields[name] = Number(value);
    else fields[name] = value;
  }
  const { config, help, ...rest } = fields;
  return { fields: withMaxWorkers(rest), config: config as string | undefined, help: help === true };
}

/** `workers: 'max'` (after -w, or in the file): one worker per CPU. */
function withMaxWorkers(fields: Options): Options {
  return fields.workers === 'max' ? { ...fields, workers: availableParallelism() } : fields;
}

/** The config file named, or the default one beside the script (or in the cwd), if any. */
async function fromFile(
  named: string | undefined,
  script: string | undefined,
): Promise<{ file?: string; fields: Options }> {
  let file = named === undefined ? undefined : path.resolve(named);
  if (file === undefined) {
    const dir = script === undefined ? process.cwd() : path.dirname(path.resolve(script));
    file = ['overseer.config.json', 'overseer.config.js']
      .map((f) => path.join(dir, f))
      .find((f) => fs.existsSync(f));
    if (file === undefined) return { fields: {} };
  }
  const shown = path.relative(process.cwd(), file) || file;
  const invalid = invalidIn(shown);
  mustTrust(file, shown);
  let loaded: unknown;
  try {
    if (file.endsWith('.json')) loaded = JSON.parse(fs.readFileSync(file, 'utf8'));
    else loaded = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (err) {
    throw invalid('', `cannot be read: ${errorMessage(err)}`);
  }
  if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
    throw invalid('', 'must hold an object of options (a .js file: as its default export)');
  }
  const fields = loaded as Options;
  onlyKnown(fields, FILE_FIELDS, invalid);
  return { file: shown, fields: withMaxWorkers(fields) };
}

/** One source's fields (or all, merged), checked and resolved: run()'s, then overseer run's own. */
function resolveRun(fields: Options, invalid: InvalidFor) {
  const engine = resolveOptions(fields, invalid);
  const app = checkOptions(fields, APP_FIELDS, invalid);
  if (app.fetchFile !== undefined && app.fetchUrl !== undefined) {
    throw invalid('fetchFile', `and ${invalid.named('fetchUrl')} cannot both be set`);
  }
  return { engine, app };
}

/** Names each field where it was set: a flag, else the config file's field. */
function invalidWhereSet(cli: Options, file: string): InvalidFor {
  const inFile = invalidIn(file);
  const named = (field: string): string =>
    Object.hasOwn(cli, field.split(/[.[]/)[0]!) ? invalidFlag.named(field) : inFile.named(field);
  return invalidFor('overseer run', named);
}

/** `overseer run`'s arguments (after `run`) as what the master needs; throws coded errors. */
export async function runOptions(argv: readonly string[]): Promise<RunOptions | 'help'> {
  const { options, rest } = splitRunArgs(argv);
  const cli = fromCommandLine(options);
  if (cli.help) return 'help';
  const [scriptArg, ...scriptArgs] = rest;
  const file = await fromFile(cli.config, scriptArg);
  // Each source is checked on its own, so an error names where the mistake is, even where
  // the other overrides it; then together, for the rules between fields.
  const fromFileApp = resolveRun(file.fields, invalidIn(file.file ?? '')).app;
  resolveRun(cli.fields, invalidFlag);
  const merged = invalidWhereSet(cli.fields, file.file ?? '');
  const { engine, app: a } = resolveRun({ ...file.fields, ...cli.fields }, merged);
  // What only a fetcher uses means nothing without one.
  if (a.fetchFile === undefined && a.fetchUrl === undefined) {
    const needless = a.fetchManifest
      ? 'fetchManifest'
      : a.fetchInterval !== undefined
        ? 'fetchInterval'
        : undefined;
    if (needless !== undefined)
      throw merged(needless, 'needs --fetch-file or --fetch-url (fetchFile or fetchUrl in a config file)');
  }
  // The program is the app's script, which the workers run (AppWorkers): run()'s is never called.
  const config: ResolvedConfig = { program: () => {}, ...engine };
  const script = scriptArg ?? fromFileApp.script;
  if (script === undefined)
    throw new RunUsageError('a script to run is required (overseer run [options] <script> [args…])');
  // A path given in the file is relative to the file, wherever the command runs; on the
  // command line, to the cwd.
  const fileDir = file.file === undefined ? undefined : path.dirname(path.resolve(file.file));
  const base = (inFile: boolean): string => (inFile && fileDir !== undefined ? fileDir : process.cwd());
  const pathOf = (field: 'envFile' | 'fetchFile'): string | undefined => {
    const value = a[field];
    return value === undefined ? undefined : path.resolve(base(!Object.hasOwn(cli.fields, field)), value);
  };
  const envFile = pathOf('envFile');
  const fetchFile = pathOf('fetchFile');
  return {
    app: {
      script: scriptPath(script, base(scriptArg === undefined)),
      args: scriptArg === undefined ? a.args : scriptArgs,
      nodeArgs: a.nodeArgs,
      env: a.env,
      envFile,
      cwd: process.cwd(),
      ready: a.ready,
      killSignal: a.killSignal,
      logPrefix: a.logPrefix,
      logLines: a.logLines,
      reusePort: config.reusePort,
      terminateTimeout: config.terminateTimeout,
      readyTimeout: config.readyTimeout,
      upgradeGrace: config.upgradeGrace,
    },
    engine: config,
    fetch: {
      ...(fetchFile === undefined ? {} : { file: fetchFile }),
      ...(a.fetchUrl === undefined ? {} : { url: a.fetchUrl }),
      ...(a.fetchInterval === undefined ? {} : { interval: a.fetchInterval }),
      manifest: a.fetchManifest,
    },
    configFile: file.file,
  };
}
