// The run() config: its type, defaults and validation. Every mistake is a coded TypeError
// that names the field, thrown before anything is started.
import type { RequestListener } from 'node:http';
import { constants } from 'node:os';
import { type ListenAddress, parseAddress } from './address.js';
import { configError } from './errors.js';
import type { Fetcher } from './fetcher/fetcher.js';
import {
  booleanOption,
  durationOption,
  functionOption,
  type Invalid,
  integerOption,
  type Options,
  onlyKnown,
  stringOption,
} from './options.js';
import { os } from './os/index.js';
import type { State } from './worker/state.js';

export type RestartMode = 'overlap' | 'sequential';

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
  /** Where the control socket lives; '' disables it. Default: a fresh path in os.tmpdir(). */
  ipcPath?: string;
  /** Windows: the control pipe's security descriptor (SDDL). Default: this user, SYSTEM and Administrators. */
  ipcSecurityDescriptor?: string;
  /** How long a new version's sanity check may take, in ms. Default 10000. */
  sanityCheckTimeout?: number;
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

export interface ResolvedConfig {
  program: Config['program'];
  addresses: ListenAddress[];
  fetcher: Fetcher | undefined;
  handler: RequestListener | undefined;
  restartSignal: NodeJS.Signals;
  terminateTimeout: number;
  minFetchInterval: number;
  preUpgrade: Config['preUpgrade'];
  debug: boolean;
  noWarn: boolean;
  noRestart: boolean;
  noRestartAfterFetch: boolean;
  required: boolean;
  workers: number;
  restartMode: RestartMode;
  readyTimeout: number;
  reusePort: boolean;
  backlog: number;
  ipcPath: string | undefined;
  sanityCheckTimeout: number;
  keepReleases: number;
  ipcSecurityDescriptor: string | undefined;
  upgradeHealthWindow: number;
  upgradeGrace: number;
  sticky: 'ip' | undefined;
  healthAddress: (ListenAddress & { kind: 'tcp' }) | undefined;
  drainDelay: number;
}

const KNOWN = [
  'program',
  'address',
  'addresses',
  'fetcher',
  'handler',
  'restartSignal',
  'terminateTimeout',
  'minFetchInterval',
  'preUpgrade',
  'debug',
  'noWarn',
  'noRestart',
  'noRestartAfterFetch',
  'required',
  'workers',
  'restartMode',
  'readyTimeout',
  'reusePort',
  'backlog',
  'ipcPath',
  'sanityCheckTimeout',
  'keepReleases',
  'ipcSecurityDescriptor',
  'upgradeHealthWindow',
  'upgradeGrace',
  'sticky',
  'healthAddress',
  'drainDelay',
];

const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);
/**
 * Signal names are checked against POSIX's list, not this OS's, so one config serves every
 * platform: on Windows, where no signal reaches another process, the restart signal is unused.
 */
const SIGNALS = new Set([
  ...Object.keys(constants.signals),
  ...'SIGHUP SIGINT SIGQUIT SIGTRAP SIGABRT SIGBUS SIGUSR1 SIGUSR2 SIGPIPE SIGALRM SIGTERM SIGCHLD SIGCONT SIGTSTP SIGTTIN SIGTTOU SIGURG SIGXCPU SIGXFSZ SIGVTALRM SIGPROF SIGWINCH SIGIO SIGPWR SIGSYS'.split(
    ' ',
  ),
]);

/**
 * `invalid` makes each error: run()'s name `config.<field>`; `overseer run` names the flag or
 * the config file the field came from.
 */
export function resolveConfig(input: unknown, invalid: Invalid = configError): ResolvedConfig {
  if (typeof input !== 'object' || input === null) throw invalid('', 'must be an object');
  const c = input as Options;
  const bool = (key: string, fallback: boolean): boolean => booleanOption(c, key, fallback, invalid);
  const duration = (key: string, fallback: number, min: 0 | 1): number =>
    durationOption(c, key, fallback, min, invalid);
  const integer = (key: string, fallback: number, min: number, max: number): number =>
    integerOption(c, key, fallback, { min, max }, invalid);
  onlyKnown(c, KNOWN, invalid);
  if (typeof c.program !== 'function') throw invalid('program', 'must be a function');
  if (c.address !== undefined && c.addresses !== undefined) {
    throw invalid('address', 'and config.addresses cannot both be set');
  }
  const addresses = listenAddresses(c);
  const reusePort = bool('reusePort', false);
  if (reusePort && addresses.some((a) => a.kind !== 'tcp')) {
    throw invalid('reusePort', "does not apply to unix socket or systemd ('systemd:') addresses");
  }
  return {
    program: c.program as Config['program'],
    addresses,
    fetcher: fetcher(c.fetcher, invalid),
    handler: functionOption<RequestListener>(c, 'handler', invalid),
    restartSignal: restartSignal(c.restartSignal, invalid),
    terminateTimeout: duration('terminateTimeout', 30_000, 1),
    minFetchInterval: duration('minFetchInterval', 1_000, 0),
    preUpgrade: functionOption<NonNullable<Config['preUpgrade']>>(c, 'preUpgrade', invalid),
    debug: bool('debug', false),
    noWarn: bool('noWarn', false),
    noRestart: bool('noRestart', false),
    noRestartAfterFetch: bool('noRestartAfterFetch', false),
    required: bool('required', false),
    workers: integer('workers', 1, 1, 1024),
    restartMode: restartMode(c.restartMode, invalid),
    readyTimeout: duration('readyTimeout', 30_000, 1),
    reusePort,
    backlog: integer('backlog', 511, 1, 65535),
    ipcPath: ipcPath(c.ipcPath, invalid),
    sanityCheckTimeout: duration('sanityCheckTimeout', 10_000, 1),
    keepReleases: integer('keepReleases', 3, 2, 1000),
    ipcSecurityDescriptor: stringOption(c, 'ipcSecurityDescriptor', invalid),
    upgradeHealthWindow: duration('upgradeHealthWindow', 5_000, 0),
    upgradeGrace: duration('upgradeGrace', 5_000, 0),
    sticky: sticky(c.sticky, reusePort, invalid),
    healthAddress: healthAddress(c.healthAddress, invalid),
    drainDelay: duration('drainDelay', 0, 0),
  };
}

/** `address` or `addresses`, each parsed; the same address twice is a mistake (':0' twice is two ports). */
function listenAddresses(c: Options): ListenAddress[] {
  if (c.address !== undefined) return [parseAddress(c.address, 'address')];
  if (c.addresses === undefined) return [];
  if (!Array.isArray(c.addresses)) throw configError('addresses', 'must be an array of address strings');
  const addresses = c.addresses.map((a, i) => parseAddress(a, `addresses[${i}]`));
  const seen = new Set<string>();
  for (const [i, a] of addresses.entries()) {
    if (a.kind === 'tcp' && a.port === 0) continue;
    const key = a.kind === 'tcp' ? `${a.host}:${a.port}` : a.text;
    if (seen.has(key)) throw configError(`addresses[${i}]`, `repeats ${a.text}`);
    seen.add(key);
  }
  return addresses;
}

/** '' (no control socket), or where it lives, in the form this platform's control socket takes. */
export function ipcPath(v: unknown, invalid: Invalid = configError): string | undefined {
  if (v === undefined || v === '') return v;
  if (typeof v !== 'string') throw invalid('ipcPath', 'must be a string');
  const problem = os.ipcPathProblem(v);
  if (problem !== undefined) throw invalid('ipcPath', problem);
  return v;
}

function fetcher(v: unknown, invalid: Invalid): Fetcher | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || typeof (v as Fetcher).fetch !== 'function') {
    throw invalid('fetcher', 'must be an object with a fetch(signal) method');
  }
  return v as Fetcher;
}

function restartSignal(v: unknown, invalid: Invalid): NodeJS.Signals {
  if (v === undefined) return 'SIGUSR2';
  const signal = signalOption(v, 'restartSignal', invalid);
  if ((os.shutdownSignals as readonly string[]).includes(signal)) {
    throw invalid('restartSignal', `cannot be ${signal}, which shuts the master down`);
  }
  return signal;
}

/** A catchable signal's name, checked against POSIX's list. */
export function signalOption(v: unknown, field: string, invalid: Invalid): NodeJS.Signals {
  if (typeof v !== 'string' || !SIGNALS.has(v) || UNCATCHABLE.has(v)) {
    throw invalid(field, `must be a catchable signal name such as 'SIGUSR2', got ${String(v)}`);
  }
  return v as NodeJS.Signals;
}

function healthAddress(v: unknown, invalid: Invalid): (ListenAddress & { kind: 'tcp' }) | undefined {
  if (v === undefined) return undefined;
  const a = parseAddress(v, 'healthAddress');
  if (a.kind !== 'tcp')
    throw invalid('healthAddress', `must be a TCP address such as ':9090', got '${a.text}'`);
  return a;
}

function sticky(v: unknown, reusePort: boolean, invalid: Invalid): 'ip' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'ip') throw invalid('sticky', `must be 'ip', got ${String(v)}`);
  if (!reusePort) throw invalid('sticky', 'needs reusePort: true (one socket per worker slot)');
  return v;
}

function restartMode(v: unknown, invalid: Invalid): RestartMode {
  if (v === undefined) return 'overlap';
  if (v !== 'overlap' && v !== 'sequential') {
    throw invalid('restartMode', `must be 'overlap' or 'sequential', got ${String(v)}`);
  }
  return v;
}
