// overseer/cluster: node:cluster's object, on overseer's engine. `import cluster from` and
// `require()` both return the object itself. In a worker it is the one the preload made
// (child.ts); in the primary it is the primary (primary.ts), loaded only there, so a worker
// never loads the supervisor or the control socket.
import type { EventEmitter } from 'node:events';
import { CHILD_KEY, isWorkerOf } from '../contract/env.js';
import type { RestartResult } from '../master/events.js';
import type { ChildCluster } from './child.js';
import type { SCHED_NONE, SCHED_RR } from './scheduling.js';
import type { ClusterSettings } from './settings.js';
import type { Worker } from './worker.js';

export type { RestartResult } from '../master/events.js';
export { SCHED_NONE, SCHED_RR } from './scheduling.js';
export type { ClusterSettings } from './settings.js';
export type { Worker, WorkerOptions, WorkerState } from './worker.js';

/**
 * node:cluster's object. The primary-only members (fork, setupPrimary, disconnect, reload,
 * workers, settings) exist only in the primary, and `worker` only in a worker, as in Node.
 */
export interface Cluster extends EventEmitter {
  readonly isPrimary: boolean;
  /** @deprecated node:cluster's alias of isPrimary. */
  readonly isMaster: boolean;
  readonly isWorker: boolean;
  readonly Worker: typeof Worker;
  readonly SCHED_NONE: typeof SCHED_NONE;
  readonly SCHED_RR: typeof SCHED_RR;
  /** Accepted for compatibility: either way workers accept from the shared socket. */
  schedulingPolicy: number;
  settings: ClusterSettings;
  readonly workers: Record<number, Worker | undefined>;
  readonly worker?: Worker;
  fork(env?: NodeJS.ProcessEnv): Worker;
  setupPrimary(settings?: ClusterSettings): void;
  /** @deprecated node:cluster's alias of setupPrimary. */
  setupMaster(settings?: ClusterSettings): void;
  disconnect(callback?: () => void): void;
  /** A rolling, overlapping, readiness-gated restart of every worker. */
  reload(): Promise<RestartResult>;
}

/**
 * Requires the side's module beside this one. node:module (and with it Node's source-map
 * support) is taken here, not at the top: a worker's preload has made its side before the
 * program imports this, and needs neither.
 */
function load(file: string): unknown {
  return process.getBuiltinModule('node:module').createRequire(import.meta.url)(file);
}

function sideOfThisProcess(): Cluster {
  const preloaded = (globalThis as { [CHILD_KEY]?: ChildCluster })[CHILD_KEY];
  if (preloaded !== undefined) return preloaded as unknown as Cluster;
  if (isWorkerOf('cluster')) {
    const child = load('./child.js') as typeof import('./child.js');
    return child.childCluster() as unknown as Cluster;
  }
  return (load('./primary.js') as typeof import('./primary.js')).cluster as unknown as Cluster;
}

const cluster: Cluster = sideOfThisProcess();

export default cluster;
// require('overseer/cluster') returns the object itself, as require('node:cluster') does.
export { cluster as 'module.exports' };
