// What the master of `overseer run` and the preload in its workers agree on beyond the worker
// contract (env.ts, where its variables, its readiness modes and its preload are): the app's own
// word that it is ready.
export { APP_PRELOAD, READY_MODES, type ReadyMode } from './env.js';

/** The app's own word that it is ready (`process.send('ready')`). */
export const READY_MESSAGE = 'ready';
