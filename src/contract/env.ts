// The worker contract: what a master tells each worker it starts, for the three ways a worker is
// started: run()'s (`run`), overseer/cluster's (`cluster`) and `overseer run`'s (`app`). One table
// of variables (which every start-up carries, which one adds), one writer (each master's spawn)
// and one reader (each worker's start), which reads once and then deletes every OVERSEER_*
// variable and the start-up's preload flag, so the program's own children inherit none of it.
// run()'s names are the process contract (README, "The process contract"); the other two start-ups have prefixes of
// their own, so a worker of one never looks like a worker of another (a run() call in a cluster
// worker starts a master, as in any other program).
import { fileURLToPath } from 'node:url';
import { DEFAULTS, READY_MODES, type ReadyMode } from '../option-table.js';

export type Startup = 'run' | 'cluster' | 'app';

export { READY_MODES, type ReadyMode };

/** How a value is written into a variable and read back; a missing or bad one reads as a default. */
interface Codec<T> {
  write(value: T): string;
  read(text: string | undefined): T;
}

const count: Codec<number> = {
  write: String,
  read: (text) => {
    const n = Number(text);
    return Number.isInteger(n) && n >= 0 ? n : 0;
  },
};

const ms = (fallback: number): Codec<number> => ({
  write: String,
  read: (text) => {
    const n = Number(text ?? Number.NaN);
    return Number.isFinite(n) && n >= 0 ? n : fallback;
  },
});

const text: Codec<string> = { write: (s) => s, read: (s) => s ?? '' };

const list: Codec<string[]> = {
  write: (values) => JSON.stringify(values),
  read: (s) => {
    try {
      const parsed: unknown = JSON.parse(s ?? '[]');
      return Array.isArray(parsed) ? parsed.map(String) : [];
    } catch {
      return [];
    }
  },
};

const signal: Codec<NodeJS.Signals> = { write: (s) => s, read: (s) => (s || 'SIGTERM') as NodeJS.Signals };

const readyMode: Codec<ReadyMode> = {
  write: (mode) => mode,
  read: (s) => READY_MODES.find((m) => m === s) ?? 'listening',
};

/**
 * Every variable of the contract, once: a row is what the worker reads, its columns its name in
 * each start-up that carries it. Every start-up carries the worker's id and its master's pid;
 * run() adds what its program's State holds (its listeners come as inherited fds or handles);
 * the other two add the drain's bounds (a run() worker has them from its own config), and
 * `overseer run` what it tells the app (the signal after the drain) and when it is ready.
 */
const VARIABLES = {
  workerId: {
    codec: count,
    run: 'OVERSEER_WORKER_ID',
    cluster: 'OVERSEER_CLUSTER_WORKER_ID',
    app: 'OVERSEER_APP_WORKER_ID',
  },
  masterPid: {
    codec: count,
    run: 'OVERSEER_MASTER_PID',
    cluster: 'OVERSEER_CLUSTER_MASTER_PID',
    app: 'OVERSEER_APP_MASTER_PID',
  },
  binHash: { codec: text, run: 'OVERSEER_BIN_ID' },
  binPath: { codec: text, run: 'OVERSEER_BIN_PATH' },
  numFds: { codec: count, run: 'OVERSEER_NUM_FDS' },
  ipcPath: { codec: text, run: 'OVERSEER_IPC_PATH' },
  addresses: { codec: list, run: 'OVERSEER_ADDRESSES' },
  terminateTimeout: {
    codec: ms(DEFAULTS.terminateTimeout),
    cluster: 'OVERSEER_CLUSTER_TERMINATE_TIMEOUT',
    app: 'OVERSEER_APP_TERMINATE_TIMEOUT',
  },
  upgradeGrace: {
    codec: ms(DEFAULTS.upgradeGrace),
    cluster: 'OVERSEER_CLUSTER_UPGRADE_GRACE',
    app: 'OVERSEER_APP_UPGRADE_GRACE',
  },
  killSignal: { codec: signal, app: 'OVERSEER_APP_KILL_SIGNAL' },
  ready: { codec: readyMode, app: 'OVERSEER_APP_READY' },
} as const;

/**
 * Which start-up's worker this process is ('1'). `overseer run` needs none: its preload runs
 * only in its workers (and in a new version's sanity check, which OVERSEER_BIN_CHECK marks).
 */
const MARKER: { readonly [S in Startup]?: string } = {
  run: 'OVERSEER_IS_WORKER',
  cluster: 'OVERSEER_CLUSTER_WORKER',
};

/** The Go library's names, written beside run()'s, so a program written for it reads either. */
const GO_NAMES: { readonly [name: string]: string } = {
  OVERSEER_IS_WORKER: 'OVERSEER_IS_SLAVE',
  OVERSEER_WORKER_ID: 'OVERSEER_SLAVE_ID',
};

/**
 * Node's own names for a child's IPC channel: which fd it is and how messages are serialized.
 * A master whose end of the channel is its own (POSIX) spawns the worker with a plain socket at
 * that fd and names it here; the worker's Node then makes it its ordinary IPC channel (and
 * deletes both variables at its start).
 */
export function nodeChannelEnvironment(
  fd: number,
  serialization: 'json' | 'advanced',
): Record<string, string> {
  return { NODE_CHANNEL_FD: String(fd), NODE_CHANNEL_SERIALIZATION_MODE: serialization };
}

/** Outside a worker's contract: a new version's sanity check (sanity-check.ts). */
export const ENV = {
  binCheck: 'OVERSEER_BIN_CHECK',
} as const;

// How a start-up gives its workers their side before the program's first line (its preload).
// run() needs none: the program calls it.

/** `overseer run`'s preload, as `node --import` takes it (a URL, so any path works). */
export const APP_PRELOAD = new URL('../preload/index.js', import.meta.url).href;

/**
 * overseer/cluster's preload (`--require`): set up synchronously before the program's first
 * line, as node:cluster's worker side is, so no early message from the primary is lost.
 */
export const CLUSTER_PRELOAD = fileURLToPath(new URL('../cluster/preload.cjs', import.meta.url));

/**
 * The same preload as ESM, for a cluster worker whose flags register loader hooks (`--import`,
 * `--loader`): Node 22 cannot require() an ES module once hooks are registered after a
 * `--require` preload has already required one (ERR_METHOD_NOT_IMPLEMENTED: resolveSync), so
 * there the preload comes after the program's own preloads. Nothing is lost by it: with any
 * `--import`, Node loads the program asynchronously anyway.
 */
export const CLUSTER_PRELOAD_ESM = new URL('../cluster/child.js', import.meta.url).href;

const HOOK_FLAG = /^--(import|loader|experimental-loader)(=|$)/;

/** How a cluster worker started with these node flags (and NODE_OPTIONS) is given its preload. */
export function preloadArgs(execArgv: readonly string[], nodeOptions = ''): string[] {
  const hooks = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => HOOK_FLAG.test(a));
  return hooks ? ['--import', CLUSTER_PRELOAD_ESM] : ['--require', CLUSTER_PRELOAD];
}

/**
 * Where a cluster worker's preload keeps the worker's cluster object, for the program's own
 * `import cluster from 'overseer/cluster'` to find.
 */
export const CHILD_KEY: unique symbol = Symbol.for('overseer.cluster.child');

type PreloadFlag = '--require' | '--import';

const PRELOADS: { readonly [S in Startup]: readonly (readonly [PreloadFlag, string])[] } = {
  run: [],
  cluster: [
    ['--require', CLUSTER_PRELOAD],
    ['--import', CLUSTER_PRELOAD_ESM],
  ],
  app: [['--import', APP_PRELOAD]],
};

/** Removes `flag value` and `flag=value` from `argv`: the program's fork()s inherit execArgv. */
function forgetPreload(argv: string[], flag: PreloadFlag, value: string): void {
  for (let i = argv.length - 1; i >= 0; i--) {
    if (argv[i] === value && argv[i - 1] === flag) {
      argv.splice(i - 1, 2);
      i--;
    } else if (argv[i] === `${flag}=${value}`) argv.splice(i, 1);
  }
}

type Table = typeof VARIABLES;
type Field = keyof Table;
type ValueOf<F extends Field> = Table[F]['codec'] extends Codec<infer T> ? T : never;

/** What a worker of start-up `S` reads (run()'s by default). */
export type WorkerEnv<S extends Startup = 'run'> = {
  [F in Field as S extends keyof Table[F] ? F : never]: ValueOf<F>;
};

function nameOf(startup: Startup, field: Field): string | undefined {
  return (VARIABLES[field] as { readonly [S in Startup]?: string })[startup];
}

/**
 * A worker's variables, on top of the environment it inherits: the start-up's marker and the
 * values given (a new version's sanity check under `overseer run` is given only its ready mode).
 */
export function workerEnvironment<S extends Startup>(
  startup: S,
  values: Partial<WorkerEnv<S>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (name: string, value: string): void => {
    out[name] = value;
    const go = GO_NAMES[name];
    if (go !== undefined) out[go] = value;
  };
  const marker = MARKER[startup];
  if (marker !== undefined) put(marker, '1');
  for (const [field, value] of Object.entries(values) as [Field, unknown][]) {
    const name = nameOf(startup, field);
    if (name === undefined || value === undefined) continue;
    put(name, (VARIABLES[field].codec as Codec<unknown>).write(value));
  }
  return out;
}

/**
 * Reads a worker's contract, once: then every OVERSEER_* variable is gone from `env` (but a
 * sanity check's token, which ends the process before any program serves) and the start-up's
 * preload from `execArgv`, so the program's own children are neither workers nor preloaded.
 */
export function takeWorkerEnvironment<S extends Startup>(
  startup: S,
  env: NodeJS.ProcessEnv = process.env,
  execArgv: string[] = process.execArgv,
): WorkerEnv<S> {
  const result: Record<string, unknown> = {};
  for (const field of Object.keys(VARIABLES) as Field[]) {
    const name = nameOf(startup, field);
    if (name === undefined) continue;
    const go = GO_NAMES[name];
    result[field] = (VARIABLES[field].codec as Codec<unknown>).read(
      env[name] ?? (go === undefined ? undefined : env[go]),
    );
  }
  for (const key of Object.keys(env)) {
    if (key.startsWith('OVERSEER_') && key !== ENV.binCheck) delete env[key];
  }
  for (const [flag, value] of PRELOADS[startup]) forgetPreload(execArgv, flag, value);
  return result as WorkerEnv<S>;
}

/** Whether this process is a worker of `startup` that has not read its contract yet. */
export function isWorkerOf(startup: Startup, env: NodeJS.ProcessEnv = process.env): boolean {
  const marker = MARKER[startup];
  if (marker === undefined) return false;
  const go = GO_NAMES[marker];
  return env[marker] === '1' || (go !== undefined && env[go] === '1');
}

/** Whether this process is a run() worker (what run() asks to pick its side). */
export function isWorkerProcess(env: NodeJS.ProcessEnv = process.env): boolean {
  return isWorkerOf('run', env);
}
