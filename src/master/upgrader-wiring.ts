// The upgrader (upgrade/upgrader.ts) wired into run()'s master: its options from the config,
// the binary hash it reads and swaps, its restarts, the crash watch after an upgrade, and
// what an upgrade becomes (the 'upgrade' event, and 'error' for a failed one), and what a
// release manifest's rollout comes to (the 'rollout' event). The fetch
// pipeline loads from here, and only when a fetcher is configured.
import type { ResolvedConfig } from '../config.js';
import type { Master as MasterHandle } from '../current-master.js';
import { codedError } from '../errors.js';
import type { Fetcher } from '../fetcher/fetcher.js';
import type { Upgrader } from '../upgrade/upgrader.js';
import type { Binary } from './binary.js';
import type { RestartResult } from './events.js';
import { crashWithin } from './upgrade-health-window.js';

/** What the updater works on: the master's binary and its hash, restarts and events. */
export interface UpdatedMaster {
  readonly binary: Binary;
  binHash: string;
  readonly events: MasterHandle;
  /** The master's name (config.name, else the app's package.json name): with the machine, the fleet id. */
  readonly name: string;
  restart(reason: string): Promise<RestartResult>;
  /** An upgrade's switch and a master handoff take turns. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export async function createUpgrader(
  fetcher: Fetcher,
  c: ResolvedConfig,
  master: UpdatedMaster,
  reportError: (err: Error) => void,
): Promise<Upgrader> {
  const { Upgrader } = await import('../upgrade/upgrader.js');
  const options = {
    minFetchInterval: c.minFetchInterval,
    keepReleases: c.keepReleases,
    sanityCheckTimeout: c.sanityCheckTimeout,
    noRestartAfterFetch: c.noRestartAfterFetch,
    preUpgrade: c.preUpgrade,
    upgradeHealthWindow: c.upgradeHealthWindow,
    fleetId: c.fleetId,
    appName: master.name,
  };
  return new Upgrader(fetcher, options, {
    binary: master.binary,
    getHash: () => master.binHash,
    setHash: (hash) => {
      master.binHash = hash;
    },
    restart: (reason) => master.restart(reason),
    exclusive: (fn) => master.exclusive(fn),
    watchHealth: (ms, signal) => crashWithin(master.events, ms, signal),
    onUpgrade: (event) => {
      master.events.emit('upgrade', event);
      if (event.result !== 'failed') return;
      const err = codedError(Error, 'ERR_OVERSEER_UPGRADE_FAILED', `upgrade failed: ${event.reason}`);
      if (event.code !== undefined) err.code = event.code; // the failed step's own code
      reportError(err);
    },
    onRollout: (event) => master.events.emit('rollout', event),
    onError: reportError,
  });
}
