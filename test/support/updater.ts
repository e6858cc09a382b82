// The updater's unit tests on fakes: its options with every wait at 0, and a master that holds
// one entry file and its hash, whose restarts succeed at once and whose workers never crash.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { UpdaterHost, UpdaterOptions } from '../../src/upgrade/upgrader.js';

export const UPDATER_OPTIONS: UpdaterOptions = {
  minFetchInterval: 0,
  keepReleases: 3,
  sanityCheckTimeout: 5_000,
  noRestartAfterFetch: false,
  preUpgrade: undefined,
  upgradeHealthWindow: 0,
};

/** A master whose binPath is `bin`; `overrides` replace any part (recorders, a failing restart). */
export function fakeUpdaterHost(bin: string, overrides: Partial<UpdaterHost> = {}): UpdaterHost {
  let hash = createHash('sha256').update(fs.readFileSync(bin)).digest('hex');
  return {
    binary: { path: bin, sea: false, commandFor: (file) => ({ command: process.execPath, args: [file] }) },
    getHash: () => hash,
    setHash: (h) => {
      hash = h;
    },
    restart: async (reason) => ({ ok: true, reason, durationMs: 0, replaced: 1 }),
    watchHealth: async () => 'passed',
    onUpgrade: () => {},
    onError: () => {},
    ...overrides,
  };
}
