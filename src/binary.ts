// The program's "binary": its entry file (or the executable of a single-executable app),
// and the sha256 that identifies a version of it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { codedError } from './errors.js';

export interface Binary {
  /** Absolute, and deliberately not resolved through symlinks. */
  path: string;
  /** How a worker runs it: the command and its arguments. */
  command: string;
  args: string[];
}

function isSea(): boolean {
  try {
    const require = createRequire(import.meta.url);
    return (require('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

export function currentBinary(): Binary {
  if (isSea()) {
    return { path: process.execPath, command: process.execPath, args: process.argv.slice(2) };
  }
  const entry = process.argv[1];
  if (entry === undefined || entry === '' || !fs.existsSync(entry)) {
    throw codedError(
      Error,
      'ERR_OVERSEER_NO_ENTRY',
      'overseer: cannot tell which script to run in workers (no entry file)',
    );
  }
  const abs = path.resolve(entry);
  return { path: abs, command: process.execPath, args: [...process.execArgv, abs, ...process.argv.slice(2)] };
}

export function hashFile(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
