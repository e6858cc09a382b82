// overseer/cluster's settings (cluster.setupPrimary()): node:cluster's, which Node's own rules
// govern, and overseer's bounds, checked by the option table as run()'s config is; and how a
// worker process is started from them, as node:cluster starts one (exec, args, execArgv with a
// free inspector port, stdio, cwd, serialization, uid, gid) with the worker contract added.
import type { StdioOptions } from 'node:child_process';
import { checkOptions } from '../config.js';
import { preloadArgs, workerEnvironment } from '../contract/env.js';
import { invalidFor } from '../errors.js';
import type { ListenRoute, SpawnSpec } from '../master/worker-process.js';

/** cluster.setupPrimary()'s settings: node:cluster's, and overseer's bounds. */
export interface ClusterSettings {
  exec?: string;
  args?: string[];
  execArgv?: string[];
  silent?: boolean;
  stdio?: StdioOptions;
  cwd?: string;
  serialization?: 'json' | 'advanced';
  windowsHide?: boolean;
  uid?: number;
  gid?: number;
  inspectPort?: number | (() => number);
  /** ms a retired worker may take to drain before it is killed (reload). Default 30000. */
  terminateTimeout?: number;
  /** ms a reload's new worker may take to become ready. Default 30000. */
  readyTimeout?: number;
  /** ms a draining worker leaves WebSockets and event streams to the program. Default 5000. */
  upgradeGrace?: number;
  /** Where the control socket lives; '' disables it. Default: the name's path, as run()'s. Read at the first setup. */
  ipcPath?: string;
  /** The primary's name, as run()'s `name` (default: from `exec`'s package.json). Read at the first setup. */
  name?: string;
}

const invalid = invalidFor('overseer/cluster', 'settings.');
/** overseer's own settings, checked by the option table as run()'s config is (node:cluster's are Node's). */
const OWN = ['terminateTimeout', 'readyTimeout', 'upgradeGrace', 'ipcPath', 'name'] as const;

/** Throws a coded TypeError naming `settings.<field>` for a bad overseer setting. */
export function checkSettings(settings: ClusterSettings): void {
  checkOptions(settings as Record<string, unknown>, OWN, invalid);
}

/** How worker `id` starts: `slotEnv` is what the program's fork(env) gave its slot. */
export function workerSpawnSpec(
  s: ClusterSettings,
  id: number,
  slotEnv: NodeJS.ProcessEnv,
  route: ListenRoute,
): SpawnSpec {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...slotEnv,
    ...workerEnvironment('cluster', {
      workerId: id,
      masterPid: process.pid,
      terminateTimeout: s.terminateTimeout,
      upgradeGrace: s.upgradeGrace,
    }),
  };
  const stdio = s.stdio ?? (s.silent ? ['pipe', 'pipe', 'pipe'] : ['inherit', 'inherit', 'inherit']);
  const execArgv = [...(s.execArgv ?? [])];
  if (execArgv.some((a) => /^--inspect(-brk|-wait)?(=|$)/.test(a))) {
    const port =
      typeof s.inspectPort === 'function' ? s.inspectPort() : (s.inspectPort ?? process.debugPort + id);
    execArgv.push(`--inspect-port=${port}`);
  }
  return {
    command: process.execPath,
    args: [
      ...execArgv,
      ...preloadArgs(execArgv, env.NODE_OPTIONS),
      s.exec ?? process.argv[1] ?? '',
      ...(s.args ?? []),
    ],
    env,
    listeners: { stdio: [], attach: () => {} },
    stdio,
    options: {
      ...(s.cwd === undefined ? {} : { cwd: s.cwd }),
      ...(s.serialization === undefined ? {} : { serialization: s.serialization }),
      ...(s.windowsHide === undefined ? {} : { windowsHide: s.windowsHide }),
      ...(s.uid === undefined ? {} : { uid: s.uid }),
      ...(s.gid === undefined ? {} : { gid: s.gid }),
    },
    route,
    readiness: 'external',
  };
}
