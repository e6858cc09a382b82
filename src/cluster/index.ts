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
import type { Worker as WorkerClass } from './worker.js';

export type { RestartResult } from '../master/events.js';
export { SCHED_NONE, SCHED_RR } from './scheduling.js';
export type { ClusterSettings } from './settings.js';
export type { WorkerOptions, WorkerState } from './worker.js';
export type Worker = WorkerClass;

/**
 * node:cluster's object. The primary-only members (fork, setupPrimary, disconnect, reload,
 * workers, settings) exist only in the primary, and `worker` only in a worker, as in Node.
 */
export interface Cluster extends EventEmitter {
  readonly isPrimary: boolean;
  /** @deprecated node:cluster's alias of isPrimary. */
  readonly isMaster: boolean;
  readonly isWorker: boolean;
  readonly Worker: typeof WorkerClass;
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

// node:cluster's named exports (`import { isPrimary, fork }`, `import * as cluster`). Node takes
// them from its object once, as the module loads, and so do these: `workers` is the object that
// forks fill and exits empty, `worker` is this worker's (the preload made it before the program
// ran), and `settings` and `schedulingPolicy` are what they were then (cluster.settings has what
// a later setupPrimary() set). Members of the other side are undefined here, where node's
// namespace lacks them. The primary's functions are bound to it (primary.ts), as node's work
// unbound.
export const isPrimary: boolean = cluster.isPrimary;
/** @deprecated node:cluster's alias of isPrimary. */
export const isMaster: boolean = cluster.isMaster;
export const isWorker: boolean = cluster.isWorker;
export const Worker: typeof WorkerClass = cluster.Worker;
export const worker: Worker | undefined = cluster.worker;
export const workers: Cluster['workers'] = cluster.workers;
export const settings: ClusterSettings = cluster.settings;
export const schedulingPolicy: number = cluster.schedulingPolicy;

export const fork: Cluster['fork'] = cluster.fork;
export const setupPrimary: Cluster['setupPrimary'] = cluster.setupPrimary;
/** @deprecated node:cluster's alias of setupPrimary. */
export const setupMaster: Cluster['setupMaster'] = cluster.setupMaster;
export const disconnect: Cluster['disconnect'] = cluster.disconnect;
/** A rolling, overlapping, readiness-gated restart of every worker. */
export const reload: Cluster['reload'] = cluster.reload;
