// What the bench ran on, for the tables and the JSON results: the CPU, the OS, node and the
// versions of the load generators and pm2.
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

export interface Machine {
  cpu: string;
  cores: number;
  os: string;
  node: string;
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: `${cpus.length} × ${cpus[0]?.model.trim() ?? '?'}`,
    cores: CORES,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
  };
}
