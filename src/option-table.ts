// The option table: every option of run()'s config and of `overseer run` (its flags and its
// config file), once, with its kind (how it is checked, and its type), default, bounds, where
// the user may set it and one line of documentation. The rest derives from it: the checks and
// ResolvedConfig (config.ts), `overseer run`'s flags, --help and config-file check (cli/), the
// README's two option tables (scripts/readme-options.mjs, kept in step by a test), and DEFAULTS.
//
// It loads no code at run time, so the worker side reads DEFAULTS (and the contract its
// readiness modes) here without loading the master's checks.
import type { RequestListener } from 'node:http';
import type { ListenAddress } from './address.js';
import type { Fetcher } from './fetcher/fetcher.js';
import type { State } from './worker/state.js';

/**
 * When a worker of an unmodified app is ready: `listening` when it listens on every address
 * its predecessor listened on (or on one, for the first); `message` when it calls
 * `process.send('ready')` (pm2's convention); `none` as soon as it starts.
 */
export type ReadyMode = 'listening' | 'message' | 'none';
export const READY_MODES: readonly ReadyMode[] = ['listening', 'message', 'none'];

/**
 * The kinds of option: each is one check (in config.ts) and one type, as [the type a user
 * writes, the type once resolved].
 */
export interface Kinds {
  /** Milliseconds, from `min` (1 for a timeout, which at 0 would fire at once; else 0) to 2^31-1. */
  duration: [number, number];
  /** A safe integer from `min` to `max`. */
  integer: [number, number];
  boolean: [boolean, boolean];
  string: [string, string];
  /** A non-empty string: a path, an id. */
  text: [string, string];
  /** An absolute http: or https: URL. */
  httpUrl: [string, string];
  /** An array of strings, or one string split at its spaces. */
  words: [string[] | string, string[]];
  /** Variable names to string values. */
  env: [Record<string, string>, Record<string, string>];
  /** A catchable signal's name, from POSIX's list. */
  signal: [NodeJS.Signals, NodeJS.Signals];
  /** A signal, and not one that shuts the master down. */
  restartSignal: [NodeJS.Signals, NodeJS.Signals];
  /** One of `values`. */
  oneOf: [string, string];
  /** A listen address (address.ts). */
  address: [string, ListenAddress];
  /** Listen addresses, none twice (':0' twice is two ports). */
  addresses: [string[], ListenAddress[]];
  /** A TCP listen address. */
  tcpAddress: [string, ListenAddress & { kind: 'tcp' }];
  /** '' (none), or where the control socket lives, in this platform's form. */
  ipcPath: [string, string];
  /** A master's name: a safe file-name component (name.ts). */
  name: [string, string];
  fetcher: [Fetcher, Fetcher];
  program: [(state: State) => void | Promise<void>, (state: State) => void | Promise<void>];
  /** A hook on a staged version's path. */
  hook: [(tempPath: string) => void | Promise<void>, (tempPath: string) => void | Promise<void>];
  requestListener: [RequestListener, RequestListener];
}
export type Kind = keyof Kinds;

/** An `overseer run` flag: `--` and the option's name in kebab case. */
export interface FlagSpec {
  /** The one-letter form: 'w' for `-w`. */
  readonly short?: string;
  /**
   * What --help and the README call its value ('N'); by default from the kind ('MS' for ms).
   * One that begins with '=' is written joined to the flag: a value that begins with '-' (node's
   * own options) can be given no other way.
   */
  readonly value?: string;
  /** What the flag takes beyond the option's own values. */
  readonly note?: string;
}

export interface OptionSpec {
  readonly kind: Kind;
  /** One line for the README and --help (Markdown: `code` spans). */
  readonly doc: string;
  /** The value when it is not set. With none, the option resolves to undefined. */
  readonly default?: unknown;
  /** The default as the docs say it, where it is not a value (`none`, `a fresh path …`). */
  readonly defaultDoc?: string;
  /** It must be set (run()'s program). */
  readonly required?: true;
  readonly min?: number;
  readonly max?: number;
  /** For `oneOf`: the values it takes. */
  readonly values?: readonly string[];
  /** For a function: its parameters, as the docs show them ('state'). */
  readonly params?: string;
  /** A field of run()'s config. Without it, the option is `overseer run`'s own. */
  readonly config?: true;
  /** A field of `overseer run`'s config file (overseer.config.json / .js). */
  readonly file?: true;
  /** A flag of `overseer run`. */
  readonly flag?: FlagSpec | true;
}

export const OPTIONS = {
  program: {
    kind: 'program',
    required: true,
    params: 'state',
    config: true,
    doc: 'runs in each worker; ready when it returns or its promise resolves',
  },
  address: {
    kind: 'address',
    config: true,
    doc: "`':3000'`, `'127.0.0.1:3000'`, `'[::1]:3000'`, `':0'` (a free port), `'unix:/path.sock'`, or `'systemd:'` / `'systemd:NAME'` (socket activation)",
  },
  addresses: {
    kind: 'addresses',
    default: [],
    config: true,
    doc: 'several of those; workers get them as `state.listeners` in this order',
  },
  workers: {
    kind: 'integer',
    min: 1,
    max: 1024,
    default: 1,
    config: true,
    file: true,
    flag: { short: 'w', note: '`max` is one per CPU' },
    doc: 'how many workers; restarts roll through them one at a time',
  },
  ready: {
    kind: 'oneOf',
    values: READY_MODES,
    default: 'listening',
    file: true,
    flag: true,
    doc: "when a new worker is ready: `listening`, `message` (`process.send('ready')`) or `none`",
  },
  readyTimeout: {
    kind: 'duration',
    min: 1,
    default: 30_000,
    config: true,
    file: true,
    flag: true,
    doc: 'ms a new worker may take to become ready (at least 1)',
  },
  terminateTimeout: {
    kind: 'duration',
    min: 1,
    default: 30_000,
    config: true,
    file: true,
    flag: true,
    doc: 'ms a draining worker may take before it is SIGKILLed (at least 1)',
  },
  killSignal: {
    kind: 'signal',
    default: 'SIGTERM',
    file: true,
    flag: true,
    doc: 'what the app hears after its drain',
  },
  restartSignal: {
    kind: 'restartSignal',
    default: 'SIGUSR2',
    config: true,
    file: true,
    flag: true,
    doc: 'the signal that restarts the workers',
  },
  restartMode: {
    kind: 'oneOf',
    values: ['overlap', 'sequential'],
    default: 'overlap',
    config: true,
    file: true,
    flag: true,
    doc: '`sequential` keeps the Go order (stop, then start) for programs that cannot run twice at once',
  },
  reusePort: {
    kind: 'boolean',
    default: false,
    config: true,
    file: true,
    flag: { note: "not for an app's `listen(0)`" },
    doc: 'each worker slot gets its own `SO_REUSEPORT` socket and the kernel balances between them (Linux, FreeBSD)',
  },
  sticky: {
    kind: 'oneOf',
    values: ['ip'],
    config: true,
    doc: "`'ip'`: with `reusePort` on Linux, a client address always reaches the same worker slot",
  },
  backlog: {
    kind: 'integer',
    min: 1,
    max: 65535,
    default: 511,
    config: true,
    doc: "listen backlog of the master's sockets",
  },
  upgradeGrace: {
    kind: 'duration',
    min: 0,
    default: 5_000,
    config: true,
    file: true,
    flag: true,
    doc: 'ms a draining worker leaves WebSockets and event streams to the program before it ends them',
  },
  healthAddress: {
    kind: 'tcpAddress',
    config: true,
    file: true,
    flag: true,
    doc: "a plain-HTTP `/livez` and `/readyz` for probes; `':9090'` is loopback, `'0.0.0.0:9090'` every interface",
  },
  drainDelay: {
    kind: 'duration',
    min: 0,
    default: 0,
    config: true,
    file: true,
    flag: true,
    doc: 'ms between a shutdown signal and the drain: `/readyz` fails at once while the workers keep serving',
  },
  nodeArgs: {
    kind: 'words',
    default: [],
    file: true,
    flag: { value: '="ARGS"' },
    doc: "node's own options for the workers, split as node splits NODE_OPTIONS (`--node-args='--max-old-space-size=512 --title=\"my app\"'`)",
  },
  envFile: {
    kind: 'text',
    file: true,
    flag: { value: 'FILE' },
    doc: "variables for the workers, read again at each worker's start",
  },
  env: {
    kind: 'env',
    default: {},
    file: true,
    doc: 'variables for the workers, `{ "NAME": "value" }`',
  },
  logPrefix: {
    kind: 'boolean',
    default: false,
    file: true,
    flag: true,
    doc: "prefix each line of the workers' output with `[worker N]`",
  },
  logLines: {
    kind: 'integer',
    min: 1,
    max: 1_000_000,
    default: 1000,
    file: true,
    flag: true,
    doc: 'lines the master keeps for `overseer logs`',
  },
  noRestart: {
    kind: 'boolean',
    default: false,
    config: true,
    doc: 'when a worker exits, exit the master with its code instead of replacing it (the Go behaviour)',
  },
  required: {
    kind: 'boolean',
    default: false,
    config: true,
    doc: 'fail instead of falling back to running in-process when unsupported',
  },
  debug: {
    kind: 'boolean',
    default: false,
    config: true,
    file: true,
    flag: true,
    doc: "print the master's debug log to stderr (same as `NODE_DEBUG=overseer`)",
  },
  noWarn: {
    kind: 'boolean',
    default: false,
    config: true,
    file: true,
    flag: true,
    doc: "silence overseer's warnings (`OverseerWarning`)",
  },
  name: {
    kind: 'name',
    defaultDoc: "the app's `package.json` name, else the script's base name",
    config: true,
    file: true,
    flag: { value: 'NAME' },
    doc: "the master's name, which the CLI takes (`overseer restart NAME`) and its control socket's path is made from: 1 to 64 letters, digits, `.`, `_` or `-`",
  },
  ipcPath: {
    kind: 'ipcPath',
    defaultDoc: "the name's path in a directory only this user can use (see Names)",
    config: true,
    file: true,
    flag: { value: 'PATH' },
    doc: "where the control socket lives (an absolute path; on Windows a `\\\\.\\pipe\\` name); `''` turns it off",
  },
  ipcSecurityDescriptor: {
    kind: 'string',
    defaultDoc: 'this user, SYSTEM and Administrators',
    config: true,
    doc: "Windows: the control pipe's security descriptor (SDDL)",
  },
  handler: {
    kind: 'requestListener',
    config: true,
    doc: 'serves control-socket routes outside `/overseer/`',
  },
  fetchFile: {
    kind: 'text',
    file: true,
    flag: { value: 'FILE' },
    doc: 'upgrade the script when FILE changes (a `FileFetcher`)',
  },
  fetchUrl: {
    kind: 'httpUrl',
    file: true,
    flag: { value: 'URL' },
    doc: 'upgrade the script from URL (an `HTTPFetcher`)',
  },
  fetchManifest: {
    kind: 'boolean',
    default: false,
    file: true,
    flag: true,
    doc: 'the fetch file or URL is a release manifest (see Fleets)',
  },
  fetchInterval: {
    kind: 'duration',
    min: 1,
    defaultDoc: "the fetcher's",
    file: true,
    flag: true,
    doc: 'how often to look for a new version, in ms',
  },
  fetcher: {
    kind: 'fetcher',
    config: true,
    doc: 'where new versions come from (see Self-upgrades)',
  },
  minFetchInterval: {
    kind: 'duration',
    min: 0,
    default: 1_000,
    config: true,
    file: true,
    doc: 'least ms between two fetches of a new version (0 or more)',
  },
  preUpgrade: {
    kind: 'hook',
    params: 'tempPath',
    config: true,
    doc: 'runs on a staged version before the swap; a throw cancels',
  },
  noRestartAfterFetch: {
    kind: 'boolean',
    default: false,
    config: true,
    doc: 'swap a new version in, but leave the restart to you',
  },
  sanityCheckTimeout: {
    kind: 'duration',
    min: 1,
    default: 10_000,
    config: true,
    file: true,
    doc: "ms the new version's sanity check may take (at least 1)",
  },
  upgradeHealthWindow: {
    kind: 'duration',
    min: 0,
    default: 5_000,
    config: true,
    file: true,
    doc: "ms after an upgrade's new workers are ready in which a crash of any of them rolls the upgrade back (0 turns it off)",
  },
  fleetId: {
    kind: 'text',
    defaultDoc: "this machine's id with the app's name",
    config: true,
    file: true,
    flag: { value: 'ID' },
    doc: "this master's stable id, from which it decides whether it is in a release manifest's rollout share",
  },
  keepReleases: {
    kind: 'integer',
    min: 2,
    max: 1000,
    default: 3,
    config: true,
    file: true,
    doc: 'release archives kept for rollback, counting the running one',
  },
  script: {
    kind: 'text',
    file: true,
    doc: 'the script, when the command line gives none (relative to the config file)',
  },
  args: {
    kind: 'words',
    default: [],
    file: true,
    doc: "the script's arguments, when the command line gives no script",
  },
  config: {
    kind: 'text',
    defaultDoc: '`overseer.config.json` / `.js` beside the script',
    flag: { short: 'c', value: 'FILE' },
    doc: 'the config file',
  },
  help: {
    kind: 'boolean',
    flag: { short: 'h' },
    doc: 'show this help',
  },
} as const satisfies Record<string, OptionSpec>;

type Table = typeof OPTIONS;
export type OptionName = keyof Table;
type Having<P extends keyof OptionSpec> = {
  [K in OptionName]: Table[K] extends Record<P, unknown> ? K : never;
}[OptionName];
/** The fields of run()'s config. */
export type ConfigName = Having<'config'>;
/** The fields of `overseer run`'s config file. */
export type FileName = Having<'file'>;

type Values<K extends OptionName> = Table[K] extends { values: readonly (infer V)[] } ? V : never;
/** The type of an option as a user writes it. */
export type OptionIn<K extends OptionName> = [Values<K>] extends [never]
  ? Kinds[Table[K]['kind']][0]
  : Values<K>;
/** The type of an option once checked. */
export type OptionOut<K extends OptionName> = [Values<K>] extends [never]
  ? Kinds[Table[K]['kind']][1]
  : Values<K>;
/** What an option resolves to: its value or its default; undefined where it has neither. */
export type Resolved<K extends OptionName> = Table[K] extends { default: unknown } | { required: true }
  ? OptionOut<K>
  : OptionOut<K> | undefined;
/** Some options, resolved. */
export type ResolvedOptions<K extends OptionName> = { -readonly [P in K]: Resolved<P> };

/** The names of the options with `where` set, in the table's order. */
export function optionNames<P extends 'config' | 'file' | 'flag'>(where: P): Having<P>[] {
  return (Object.keys(OPTIONS) as OptionName[]).filter(
    (k) => (OPTIONS[k] as OptionSpec)[where] !== undefined,
  ) as Having<P>[];
}

/** Every option's default: the master and the worker side read the same ones. */
export const DEFAULTS = Object.freeze(
  Object.fromEntries(
    Object.entries(OPTIONS as Record<string, OptionSpec>).flatMap(([k, o]) =>
      'default' in o ? [[k, o.default]] : [],
    ),
  ),
) as { readonly [K in Having<'default'>]: OptionOut<K> };

/** An option's `overseer run` flag, without its dashes: 'terminate-timeout'. */
export function flagName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
