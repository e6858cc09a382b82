// What an overseer/cluster primary and its workers agree on: the environment a worker is
// started with (read once, then deleted) and where the worker's cluster object lives.
// Not NODE_UNIQUE_ID: with it, Node would set up its own cluster child and route listens
// to a primary that does not speak its protocol.
import { fileURLToPath } from 'node:url';

export const CLUSTER_ENV = {
  workerId: 'OVERSEER_CLUSTER_WORKER',
  masterPid: 'OVERSEER_CLUSTER_PRIMARY_PID',
  terminateTimeout: 'OVERSEER_CLUSTER_TERMINATE_TIMEOUT',
  upgradeGrace: 'OVERSEER_CLUSTER_UPGRADE_GRACE',
} as const;

/**
 * What every worker is started with (`--require`): set up synchronously before the program's
 * first line, as node:cluster's worker side is, so no early message from the primary is lost.
 */
export const PRELOAD = fileURLToPath(new URL('./preload.cjs', import.meta.url));

/**
 * The same preload as ESM, for a worker whose flags register loader hooks (`--import`,
 * `--loader`): Node 22 cannot require() an ES module once hooks are registered after a
 * `--require` preload has already required one (ERR_METHOD_NOT_IMPLEMENTED: resolveSync), so
 * there the preload comes after the program's own preloads. Nothing is lost by it: with any
 * `--import`, Node loads the program asynchronously anyway.
 */
export const PRELOAD_ESM = new URL('./child.js', import.meta.url).href;

const HOOK_FLAG = /^--(import|loader|experimental-loader)(=|$)/;

/** How a worker started with these node flags (and NODE_OPTIONS) is given the preload. */
export function preloadArgs(execArgv: readonly string[], nodeOptions = ''): string[] {
  const hooks = [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => HOOK_FLAG.test(a));
  return hooks ? ['--import', PRELOAD_ESM] : ['--require', PRELOAD];
}

/** The worker's cluster object, shared by the preload and the program's own import. */
export const CHILD_KEY: unique symbol = Symbol.for('overseer.cluster.child');
