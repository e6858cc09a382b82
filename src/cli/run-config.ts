// `overseer run`'s options: the command line and a config file (overseer.config.json or .js
// beside the script, or --config), with the same fields, defaults and checks as run()'s
// config. The command line wins. Each mistake is a coded TypeError naming the flag, or the
// file and its field.
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type ResolvedConfig, resolveConfig, signalOption } from '../config.js';
import { READY_MODES, type ReadyMode } from '../contract/app.js';
import { codedError, errorMessage } from '../errors.js';
import type { AppSettings } from '../master/app-workers.js';
import {
  booleanOption,
  durationOption,
  type Invalid,
  integerOption,
  type Options,
  onlyKnown,
} from '../options.js';

/** The fields run()'s config checks, as they are named there. */
const ENGINE_FIELDS = [
  'workers',
  'reusePort',
  'restartSignal',
  'terminateTimeout',
  'readyTimeout',
  'restartMode',
  'ipcPath',
  'debug',
  'noWarn',
  'minFetchInterval',
  'sanityCheckTimeout',
  'keepReleases',
  'upgradeHealthWindow',
  'upgradeGrace',
  'healthAddress',
  'drainDelay',
] as const;

/** The fields only `overseer run` has. */
const APP_FIELDS = [
  'script',
  'args',
  'nodeArgs',
  'env',
  'envFile',
  'ready',
  'killSignal',
  'logPrefix',
  'logLines',
  'fetchFile',
  'fetchUrl',
  'fetchInterval',
] as const;

const FILE_FIELDS: readonly string[] = [...ENGINE_FIELDS, ...APP_FIELDS];

/** The command line's options: each is a field's name in kebab case. */
export const RUN_FLAGS = {
  workers: { type: 'string', short: 'w' },
  'reuse-port': { type: 'boolean' },
  'restart-signal': { type: 'string' },
  'terminate-timeout': { type: 'string' },
  'ready-timeout': { type: 'string' },
  'restart-mode': { type: 'string' },
  'ipc-path': { type: 'string' },
  debug: { type: 'boolean' },
  'no-warn': { type: 'boolean' },
  'upgrade-grace': { type: 'string' },
  'health-address': { type: 'string' },
  'drain-delay': { type: 'string' },
  'node-args': { type: 'string' },
  'env-file': { type: 'string' },
  ready: { type: 'string' },
  'kill-signal': { type: 'string' },
  'log-prefix': { type: 'boolean' },
  'log-lines': { type: 'string' },
  'fetch-file': { type: 'string' },
  'fetch-url': { type: 'string' },
  'fetch-interval': { type: 'string' },
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const NUMERIC = new Set([
  'workers',
  'terminateTimeout',
  'readyTimeout',
  'upgradeGrace',
  'drainDelay',
  'logLines',
  'fetchInterval',
]);

export interface RunOptions {
  app: AppSettings;
  engine: ResolvedConfig;
  fetch: { file?: string; url?: string; interval?: number };
  /** Where the options came from, for the log. */
  configFile: string | undefined;
}

/** A mistake in how the command was called (exit code 2, with the usage hint). */
export class RunUsageError extends Error {
  readonly usage = true;
}

const camel = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (field: string): string => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

const invalidFlag: Invalid = (field, problem) =>
  codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `overseer run: --${kebab(field)} ${problem}`);
const invalidIn =
  (file: string): Invalid =>
  (field, problem) =>
    codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `overseer run: ${file}: ${field} ${problem}`);

/**
 * Splits `overseer run`'s arguments: options up to the script, the script, and the script's
 * own arguments (which may look like options: they are the app's).
 */
export function splitRunArgs(argv: readonly string[]): { options: string[]; rest: string[] } {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(RUN_FLAGS)) {
    if (o.type !== 'string') continue;
    takesValue.add(`--${name}`);
    if ('short' in o) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { options: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!a.startsWith('-') || a === '-') return { options: argv.slice(0, i), rest: argv.slice(i) };
    if (takesValue.has(a)) i++;
  }
  return { options: [...argv], rest: [] };
}

/** The command line as config fields (numbers as numbers where they read as one). */
function fromCommandLine(options: string[]): { fields: Options; config: string | undefined; help: boolean } {
  const { values } = parseArgs({ args: options, options: RUN_FLAGS, strict: true, allowPositionals: false });
  const fields: Options = {};
  for (const [flag, value] of Object.entries(values)) {
    if (flag === 'config' || flag === 'help' || value === undefined) continue;
    const field = camel(flag);
    if (field === 'workers' && value === 'max') fields.workers = availableParallelism();
    else if (field === 'nodeArgs') fields.nodeArgs = String(value).split(/\s+/).filter(Boolean);
    else if (NUMERIC.has(field) && typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))
      fields[field] = Number(value);
    else fields[field] = value;
  }
  return { fields, config: values.config, help: values.help === true };
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
  const bad = (problem: string) =>
    codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `overseer run: ${shown}: ${problem}`);
  let loaded: unknown;
  try {
    if (file.endsWith('.json')) loaded = JSON.parse(fs.readFileSync(file, 'utf8'));
    else loaded = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (err) {
    throw bad(`cannot be read: ${errorMessage(err)}`);
  }
  if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
    throw bad('must hold an object of options (a .js file: as its default export)');
  }
  const fields = loaded as Options;
  onlyKnown(fields, FILE_FIELDS, invalidIn(shown));
  return { file: shown, fields };
}

/** The fields run()'s config checks, checked there with `invalid`. */
function engine(fields: Options, invalid: Invalid): ResolvedConfig {
  const part: Options = { program: () => {} };
  for (const f of ENGINE_FIELDS) if (fields[f] !== undefined) part[f] = fields[f];
  return resolveConfig(part, invalid);
}

interface AppFields {
  script: string | undefined;
  args: string[];
  nodeArgs: string[];
  env: Record<string, string>;
  envFile: string | undefined;
  ready: ReadyMode;
  killSignal: NodeJS.Signals;
  logPrefix: boolean;
  logLines: number;
  fetchFile: string | undefined;
  fetchUrl: string | undefined;
  fetchInterval: number | undefined;
}

function stringList(o: Options, key: string, invalid: Invalid): string[] {
  const v = o[key];
  if (v === undefined) return [];
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw invalid(key, 'must be an array of strings');
  return v as string[];
}

function optionalString(o: Options, key: string, invalid: Invalid): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw invalid(key, 'must be a non-empty string');
  return v;
}

function app(o: Options, invalid: Invalid): AppFields {
  const env = o.env ?? {};
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw invalid('env', 'must be an object of variable names to strings');
  }
  for (const [k, v] of Object.entries(env)) {
    if (typeof v !== 'string') throw invalid(`env.${k}`, `must be a string, got ${typeof v}`);
  }
  const ready = o.ready ?? 'listening';
  if (!READY_MODES.includes(ready as ReadyMode)) {
    throw invalid('ready', `must be one of ${READY_MODES.join(', ')}, got ${String(ready)}`);
  }
  const fetchFile = optionalString(o, 'fetchFile', invalid);
  const fetchUrl = optionalString(o, 'fetchUrl', invalid);
  if (fetchFile !== undefined && fetchUrl !== undefined)
    throw invalid('fetchFile', 'and fetchUrl cannot both be set');
  return {
    script: optionalString(o, 'script', invalid),
    args: stringList(o, 'args', invalid),
    nodeArgs: stringList(o, 'nodeArgs', invalid),
    env: env as Record<string, string>,
    envFile: optionalString(o, 'envFile', invalid),
    ready: ready as ReadyMode,
    killSignal: o.killSignal === undefined ? 'SIGTERM' : signalOption(o.killSignal, 'killSignal', invalid),
    logPrefix: booleanOption(o, 'logPrefix', false, invalid),
    logLines: integerOption(o, 'logLines', 1000, { min: 1, max: 1_000_000 }, invalid),
    fetchFile,
    fetchUrl,
    fetchInterval:
      o.fetchInterval === undefined ? undefined : durationOption(o, 'fetchInterval', 0, 1, invalid),
  };
}

/** `overseer run`'s arguments (after `run`) as what the master needs; throws coded errors. */
export async function runOptions(argv: readonly string[]): Promise<RunOptions | 'help'> {
  const { options, rest } = splitRunArgs(argv);
  const cli = fromCommandLine(options);
  if (cli.help) return 'help';
  const [scriptArg, ...scriptArgs] = rest;
  const file = await fromFile(cli.config, scriptArg);
  // Each source is checked on its own, so an error names where the mistake is.
  const fileInvalid = invalidIn(file.file ?? '');
  engine(file.fields, fileInvalid);
  const fromFileApp = app(file.fields, fileInvalid);
  engine(cli.fields, invalidFlag);
  app(cli.fields, invalidFlag);
  const merged: Options = { ...file.fields, ...cli.fields };
  const config = engine(merged, invalidFlag);
  const a = app(merged, invalidFlag);
  const script = scriptArg ?? fromFileApp.script;
  if (script === undefined)
    throw new RunUsageError('a script to run is required (overseer run [options] <script> [args…])');
  // A script given in the file is relative to the file; on the command line, to the cwd.
  const base =
    scriptArg === undefined && file.file !== undefined
      ? path.dirname(path.resolve(file.file))
      : process.cwd();
  const scriptPath = path.resolve(base, script);
  if (!fs.existsSync(scriptPath)) {
    throw codedError(Error, 'ERR_OVERSEER_NO_ENTRY', `overseer run: no such script: ${scriptPath}`);
  }
  const envFile = a.envFile === undefined ? undefined : path.resolve(a.envFile);
  return {
    app: {
      script: scriptPath,
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
      ...(a.fetchFile === undefined ? {} : { file: path.resolve(a.fetchFile) }),
      ...(a.fetchUrl === undefined ? {} : { url: a.fetchUrl }),
      ...(a.fetchInterval === undefined ? {} : { interval: a.fetchInterval }),
    },
    configFile: file.file,
  };
}
