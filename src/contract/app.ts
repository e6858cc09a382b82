// What the master of `overseer run` and the preload in its workers agree on: the environment
// a worker of an unmodified app is started with (read once by the preload, then deleted, so
// the app and its own children never see it), the readiness modes and the preload itself.
export const APP_ENV = {
  workerId: 'OVERSEER_APP_WORKER',
  masterPid: 'OVERSEER_APP_MASTER_PID',
  terminateTimeout: 'OVERSEER_APP_TERMINATE_TIMEOUT',
  upgradeGrace: 'OVERSEER_APP_UPGRADE_GRACE',
  killSignal: 'OVERSEER_APP_KILL_SIGNAL',
  /** The readiness mode: the sanity check of a new version needs it too. */
  ready: 'OVERSEER_APP_READY',
} as const;

/**
 * When a worker of an unmodified app is ready: `listening` when it listens on every address
 * its predecessor listened on (or on one, for the first); `message` when it calls
 * `process.send('ready')` (pm2's convention); `none` as soon as it starts.
 */
export type ReadyMode = 'listening' | 'message' | 'none';
export const READY_MODES: readonly ReadyMode[] = ['listening', 'message', 'none'];

/** The app's own word that it is ready (`process.send('ready')`). */
export const READY_MESSAGE = 'ready';

/** The preload, as `node --import` takes it (a URL, so any path works). */
export const APP_PRELOAD = new URL('../preload/index.js', import.meta.url).href;
