// The run() config: its public type, and the checks that resolve it, or any of the option
// table's fields, before anything is started. Each option's facts (kind, default, bounds, flag,
// doc) are in option-table.ts; this file interprets them, and holds the rules between fields.
// Every mistake is a coded TypeError naming the field where the user typed it.
//
// `Config` is written here by hand, not derived from the table: it is the public API's
// documentation, and TypeScript carries a field's doc comment only from a declaration, never
// from a string in a table. `ConfigMatchesTable` below fails to compile when the two disagree
// on a field, its type or whether it is optional, and test/options.test.ts checks each default
// the comments state against the table. ResolvedConfig, which no user reads, is derived.
import type { RequestListener } from 'node:http';
import { type ListenAddress, parseAddress } from './address.js';
import { type Invalid, type InvalidFor, invalidConfig } from './errors.js';
import type { Fetcher } from './fetcher/fetcher.js';
import { nameProblem } from './name.js';
import {
  type ConfigName,
  type Kind,
  type Kinds,
  OPTIONS,
  type OptionIn,
  type OptionName,
  type OptionSpec,
  optionNames,
  type ResolvedOptions,
} from './option-table.js';
import {
  booleanOption,
  durationOption,
  httpUrlOption,
  integerOption,
  type Options,
  oneOfOption,
  onlyKnown,
  shown,
  stringOption,
  stringRecordOption,
  wordsOption,
} from './options.js';
import { platform } from './os/index.js';
import type { State } from './worker/state.js';

export type RestartMode = OptionIn<'restartMode'>;

export interface Config {
  /** Runs in each worker. The worker is ready when it returns, or when its promise resolves. */
  program: (state: State) => void | Promise<void>;
  /**
   * One listen address: ':3000', '127.0.0.1:3000', '[::1]:3000', ':0', 'unix:/path.sock', or
   * 'systemd:' (every socket systemd passed) / 'systemd:NAME' (those named NAME). With none,
   * a master started by systemd's socket activation listens on every socket it was given.
   */
  address?: string;
  /** Several listen addresses; workers get them as listeners in this order. */
  addresses?: string[];
  /** Where new versions come from (see overseer/fetcher). */
  fetcher?: Fetcher;
  /** Serves control-socket routes outside /overseer/*. */
  handler?: RequestListener;
  /** The signal that restarts the workers. Default 'SIGUSR2'. */
  restartSignal?: NodeJS.Signals;
  /** How long a draining worker may take before it is SIGKILLed, in ms. Default 30000. */
  terminateTimeout?: number;
  /** The least time between two fetches, in ms. Default 1000. */
  minFetchInterval?: number;
  /** Runs on a staged new version before it is swapped in; a throw or rejection cancels. */
  preUpgrade?: (tempPath: string) => void | Promise<void>;
  /** Print the master's debug log to stderr (NODE_DEBUG=overseer does the same). */
  debug?: boolean;
  /** Silence overseer's warnings. */
  noWarn?: boolean;
  /** When a worker exits, exit the master with its code instead of replacing it. */
  noRestart?: boolean;
  /** After a successful fetch, swap the new version in but do not restart. */
  noRestartAfterFetch?: boolean;
  /** Fail instead of falling back to running the program in-process when unsupported. */
  required?: boolean;
  /** How many workers to run. Default 1. */
  workers?: number;
  /** 'overlap' (default): new workers are ready before old ones drain. 'sequential': Go's order. */
  restartMode?: RestartMode;
  /** How long a new worker may take to become ready, in ms. Default 30000. */
  readyTimeout?: number;
  /** Give each worker slot its own SO_REUSEPORT socket (Linux, FreeBSD). Default false. */
  reusePort?: boolean;
  /** Listen backlog of the sockets the master makes. Default 511, as Node's. */
  backlog?: number;
  /**
   * The master's name: `overseer status NAME` finds it, and the control socket's default path is
   * made from it. 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or a digit.
   * Default: the name in the package.json above the program's entry file, else its base name.
   */
  name?: string;
  /**
   * Where the control socket lives; '' disables it. Default: `<name>.sock` in a directory only
   * this user can use ($XDG_RUNTIME_DIR/overseer, else overseer-<uid> in os.tmpdir()).
   */
  ipcPath?: string;
  /** Windows: the control pipe's security descriptor (SDDL). Default: this user, SYSTEM and Administrators. */
  ipcSecurityDescriptor?: string;
  /** How long a new version's sanity check may take, in ms. Default 10000. */
  sanityCheckTimeout?: number;
  /**
   * This master's stable id in a fleet: with a release manifest, whether it is in the rollout's
   * share is decided from it. Default: this machine's id (/etc/machine-id, else the hostname)
   * with the app's name, as a keyed hash.
   */
  fleetId?: string;
  /** Release archives kept for rollback, counting the running one. Default 3. */
  keepReleases?: number;
  /**
   * ms after an upgrade's new workers are ready during which a crash of any of them rolls
   * the upgrade back, as if it had never become ready. Default 5000; 0 turns it off.
   */
  upgradeHealthWindow?: number;
  /**
   * ms a draining worker leaves its upgraded connections (WebSockets) and event streams (SSE)
   * to the program, which hears gracefulShutdown, before it ends them. Default 5000.
   */
  upgradeGrace?: number;
  /**
   * 'ip': with reusePort on Linux, each client address always lands on the same worker slot
   * (a BPF program on the sockets; the master stays out of the path), as socket.io's polling
   * transport needs.
   */
  sticky?: 'ip';
  /**
   * A plain-HTTP health endpoint for probes, apart from the program's ports: GET /livez and
   * GET /readyz. ':9090' listens on loopback; '0.0.0.0:9090' on every interface. Off by default.
   */
  healthAddress?: string;
  /**
   * ms between a shutdown signal and the drain: /readyz fails at once and the workers keep
   * serving meanwhile, so a load balancer stops sending before anything closes. Default 0.
   */
  drainDelay?: number;
}

/** run()'s config once checked: every field set or defaulted, `address` folded into `addresses`. */
export type ResolvedConfig = ResolvedOptions<Exclude<ConfigName, 'address'>>;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type ConfigFromTable = { program: OptionIn<'program'> } & {
  [K in Exclude<ConfigName, 'program'>]?: OptionIn<K>;
};
type Flat<T> = { [K in keyof T]: T[K] };
type Holds<T extends true> = T;
/** Fails to compile when `Config` and the option table disagree (see the header). */
export type ConfigMatchesTable = Holds<Equal<Config, Flat<ConfigFromTable>>>;

const CONFIG_FIELDS = optionNames('config');
const ENGINE_FIELDS = CONFIG_FIELDS.filter((k) => k !== 'program');

const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);
/**
 * Signals that would restart the workers without anyone asking: Node's own (it starts its
 * inspector on SIGUSR1, whatever listens; V8's profiler ticks on SIGPROF), and those the kernel
 * or a terminal sends on their own (a worker's exit is a SIGCHLD; a fault, a broken pipe, a
 * resize, job control, a resource limit, I/O readiness).
 */
const NOT_RESTART: Readonly<Record<string, string>> = {
  SIGUSR1: 'on which Node starts its inspector',
  ...Object.fromEntries(
    'SIGPROF SIGCHLD SIGPIPE SIGWINCH SIGCONT SIGURG SIGTSTP SIGTTIN SIGTTOU SIGSEGV SIGBUS SIGFPE SIGILL SIGTRAP SIGSYS SIGVTALRM SIGXCPU SIGXFSZ SIGIO SIGPOLL'
      .split(' ')
      .map((s) => [s, 'which the kernel or a terminal sends on their own']),
  ),
};
/**
 * Signal names are checked against POSIX's list, not this OS's, so one config serves every
 * platform: on Windows, where no signal reaches another process, the restart signal is unused.
 * Made at the first check, as node:os (this OS's list) is loaded by nothing else a worker runs.
 */
let signals: Set<string> | undefined;
const knownSignals = (): Set<string> =>
  (signals ??= new Set([
    ...Object.keys(process.getBuiltinModule('node:os').constants.signals),
    ...'SIGHUP SIGINT SIGQUIT SIGTRAP SIGABRT SIGBUS SIGUSR1 SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGCHLD SIGCONT SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS'.split(
      ' ',
    ),
  ]));

/** Checks one set option with its kind's check. */
type Check<K extends Kind> = (o: Options, key: string, spec: OptionSpec, invalid: Invalid) => Kinds[K][1];

function fn<F>(o: Options, key: string, invalid: Invalid): F {
  if (typeof o[key] !== 'function') throw invalid(key, 'must be a function');
  return o[key] as F;
}
const CHECKS: { [K in Kind]: Check<K> } = {
  duration: (o, key, spec, invalid) => durationOption(o, key, 0, spec.min === 0 ? 0 : 1, invalid),
  integer: (o, key, spec, invalid) =>
    integerOption(o, key, 0, { min: spec.min ?? 0, max: spec.max ?? Number.MAX_SAFE_INTEGER }, invalid),
  boolean: (o, key, _, invalid) => booleanOption(o, key, false, invalid),
  string: (o, key, _, invalid) => stringOption(o, key, invalid) as string,
  text: (o, key, _, invalid) => stringOption(o, key, invalid, true) as string,
  httpUrl: (o, key, _, invalid) => {
    httpUrlOption(o, key, invalid);
    return o[key] as string;
  },
  words: (o, key, _, invalid) => wordsOption(o, key, invalid) as string[],
  env: (o, key, _, invalid) => stringRecordOption(o, key, invalid) as Record<string, string>,
  signal: (o, key, _, invalid) => signalOption(o[key], key, invalid),
  restartSignal: (o, key, _, invalid) => {
    const signal = signalOption(o[key], key, invalid);
    if ((platform.shutdownSignals as readonly string[]).includes(signal)) {
      throw invalid(key, `cannot be ${signal}, which shuts the master down`);
    }
    const why = NOT_RESTART[signal];
    if (why !== undefined) throw invalid(key, `cannot be ${signal}, ${why}`);
    return signal;
  },
  oneOf: (o, key, spec, invalid) => oneOfOption(o, key, spec.values ?? [], invalid) as string,
  address: (o, key, _, invalid) => parseAddress(o[key], key, invalid),
  addresses: (o, key, _, invalid) => listenAddresses(o[key], key, invalid),
  tcpAddress: (o, key, _, invalid) => {
    const a = parseAddress(o[key], key, invalid);
    if (a.kind !== 'tcp') throw invalid(key, `must be a TCP address such as ':9090', got '${a.text}'`);
    return a;
  },
  ipcPath: (o, key, _, invalid) => ipcPath(o[key], invalid, key) as string,
  name: (o, key, _, invalid) => {
    const v = o[key];
    if (typeof v !== 'string') throw invalid(key, 'must be a string');
    const problem = nameProblem(v);
    if (problem !== undefined) throw invalid(key, problem);
    return v;
  },
  fetcher: (o, key, _, invalid) => {
    const v = o[key] as { fetch?: unknown } | null;
    if (typeof v !== 'object' || v === null || typeof v.fetch !== 'function') {
      throw invalid(key, 'must be an object with a fetch(signal) method');
    }
    return v as Kinds['fetcher'][1];
  },
  program: (o, key, _, invalid) => fn(o, key, invalid),
  hook: (o, key, _, invalid) => fn(o, key, invalid),
  requestListener: (o, key, _, invalid) => fn(o, key, invalid),
};

/**
 * Checks the options `names` of `o`, each by the table, and resolves them: the value, else the
 * default, else undefined. The cluster facade checks its settings with it:
 * `checkOptions(settings, ['terminateTimeout', 'readyTimeout'], invalidFor('overseer/cluster', 'settings.'))`.
 */
export function checkOptions<K extends OptionName>(
  o: Options,
  names: readonly K[],
  invalid: Invalid,
): ResolvedOptions<K> {
  const out: Options = {};
  for (const key of names) {
    const spec: OptionSpec = OPTIONS[key];
    if (o[key] === undefined && spec.required === undefined) out[key] = fresh(spec.default);
    else out[key] = (CHECKS[spec.kind] as Check<Kind>)(o, key, spec, invalid);
  }
  return out as ResolvedOptions<K>;
}

/** A default that is an array or an object is copied, so no config shares (or changes) the table's. */
function fresh(v: unknown): unknown {
  if (Array.isArray(v)) return [...v];
  return typeof v === 'object' && v !== null ? { ...v } : v;
}

/**
 * `invalid` makes each error: run()'s name `config.<field>`; `overseer run` names the flag or
 * the config file the field came from.
 */
export function resolveConfig(input: unknown, invalid: InvalidFor = invalidConfig): ResolvedConfig {
  if (typeof input !== 'object' || input === null) throw invalid('', 'must be an object');
  const c = input as Options;
  onlyKnown(c, CONFIG_FIELDS, invalid);
  return { ...checkOptions(c, ['program'], invalid), ...resolveOptions(c, invalid) };
}

/**
 * Every field of run()'s config but `program`, checked and resolved, with the rules between
 * fields. `overseer run` resolves its engine with it: there, the program is the app's script.
 */
export function resolveOptions(c: Options, invalid: InvalidFor): Omit<ResolvedConfig, 'program'> {
  if (c.address !== undefined && c.addresses !== undefined) {
    throw invalid('address', `and ${invalid.named('addresses')} cannot both be set`);
  }
  const { address, ...resolved } = checkOptions(c, ENGINE_FIELDS, invalid);
  if (address !== undefined) resolved.addresses = [address];
  if (resolved.reusePort && resolved.addresses.some((a) => a.kind !== 'tcp')) {
    throw invalid('reusePort', "does not apply to unix socket or systemd ('systemd:') addresses");
  }
  if (resolved.sticky !== undefined && !resolved.reusePort) {
    throw invalid('sticky', 'needs reusePort: true (one socket per worker slot)');
  }
  return resolved;
}

/** Each address parsed; the same address twice is a mistake (':0' twice is two ports). */
export function listenAddresses(v: unknown, key: string, invalid: Invalid): ListenAddress[] {
  if (!Array.isArray(v)) throw invalid(key, 'must be an array of address strings');
  // Array.from, not map: a hole is an address missing, which map would skip.
  const addresses = Array.from(v, (a, i) => parseAddress(a, `${key}[${i}]`, invalid));
  const seen = new Set<string>();
  for (const [i, a] of addresses.entries()) {
    if (a.kind === 'tcp' && a.port === 0) continue;
    const id = a.kind === 'tcp' ? `${a.host}:${a.port}` : a.text;
    if (seen.has(id)) throw invalid(`${key}[${i}]`, `repeats ${a.text}`);
    seen.add(id);
  }
  return addresses;
}

/** '' (no control socket), or where it lives, in the form this platform's control socket takes. */
export function ipcPath(v: unknown, invalid: Invalid = invalidConfig, field = 'ipcPath'): string | undefined {
  if (v === undefined || v === '') return v;
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  const problem = platform.ipcPathProblem(v);
  if (problem !== undefined) throw invalid(field, problem);
  return v;
}

/** A catchable signal's name, checked against POSIX's list. */
function signalOption(v: unknown, field: string, invalid: Invalid): NodeJS.Signals {
  if (typeof v !== 'string' || !knownSignals().has(v) || UNCATCHABLE.has(v)) {
    throw invalid(field, `must be a catchable signal name such as 'SIGUSR2', got ${shown(v)}`);
  }
  return v as NodeJS.Signals;
}
