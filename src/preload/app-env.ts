// The preload's side of the contract with the master of `overseer run`: read once, and gone.
import { APP_ENV, APP_PRELOAD, READY_MODES, type ReadyMode } from '../contract/app.js';
import { ENV } from '../contract/env.js';
import { forgetPreload } from '../worker/forget-preload.js';

export interface AppEnvironment {
  workerId: number;
  masterPid: number;
  terminateTimeout: number;
  upgradeGrace: number;
  killSignal: NodeJS.Signals;
  ready: ReadyMode;
  /** A new version's sanity check, not a worker. */
  check: boolean;
}

export function takeAppEnvironment(env: NodeJS.ProcessEnv = process.env): AppEnvironment {
  const number = (key: string, fallback: number): number => {
    const n = Number(env[key]);
    return Number.isFinite(n) && n >= 0 ? n : fallback;
  };
  const ready = env[APP_ENV.ready] as ReadyMode;
  const result: AppEnvironment = {
    workerId: number(APP_ENV.workerId, 0),
    masterPid: number(APP_ENV.masterPid, 0),
    terminateTimeout: number(APP_ENV.terminateTimeout, 30_000),
    upgradeGrace: number(APP_ENV.upgradeGrace, 5_000),
    killSignal: (env[APP_ENV.killSignal] || 'SIGTERM') as NodeJS.Signals,
    ready: READY_MODES.includes(ready) ? ready : 'listening',
    check: env[ENV.binCheck] !== undefined,
  };
  for (const key of Object.values(APP_ENV)) delete env[key];
  forgetPreload('--import', APP_PRELOAD);
  return result;
}
