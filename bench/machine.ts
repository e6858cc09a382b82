// What the bench ran on, for the tables and the JSON results: the CPU, the OS, node, the
// versions of the load generators and pm2, and what it left out of every process's environment.
import fs from 'node:fs';
import os from 'node:os';
import { CORES } from './settings.js';

/** A package's version from the repo's node_modules, or '?' (not installed). */
export function packageVersion(pkg: string): string {
  try {
    const url = new URL(`../../node_modules/${pkg}/package.json`, import.meta.url);
    return (JSON.parse(fs.readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/**
 * Variables that make every node process pay at its start for something no setup here uses.
 * NODE_EXTRA_CA_CERTS has node read and parse the file's certificates as it starts: 121 ms a
 * `node -e ''` with this 2-core machine's 220 KB file against 83 ms without (20 starts each).
 * A constant added to every start pulls every start-up ratio toward 1, so no peer gets them.
 */
const START_COST_ENV = ['NODE_EXTRA_CA_CERTS'];

let unset: string[] = [];

/** Takes START_COST_ENV out of this process's environment, which every peer inherits. */
export function withoutStartCosts(): void {
  unset = START_COST_ENV.filter((name) => process.env[name] !== undefined);
  for (const name of unset) delete process.env[name];
}

export interface Machine {
  cpu: string;
  cores: number;
  os: string;
  node: string;
  /** What every process ran without, as a sentence ('' when the environment was left as found). */
  environment: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}`,
    cores: CORES,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    environment: unset.length === 0 ? '' : `${unset.join(', ')} unset for every process`,
  };
}
