// The program's "binary": its entry file (or the executable of a single-executable app),
// how a worker runs it, and the sha256 that identifies a version of it.
import fs from 'node:fs';
import path from 'node:path';
import { codedError } from '../errors.js';

export interface Binary {
  /** Absolute, and deliberately not resolved through symlinks. */
  path: string;
  /** A single-executable application: the binary is node itself. */
  sea: boolean;
  /** How to run `file` (the binary, or a candidate in its place) exactly as a worker is run. */
  commandFor(file: string): { command: string; args: string[]; env?: Record<string, string> };
}

function isSea(): boolean {
  try {
    // Not through node:module, which loads Node's source-map support with it.
    return process.getBuiltinModule('node:sea').isSea();
  } catch {
    return false;
  }
}

export function currentBinary(): Binary {
  const rest = process.argv.slice(2);
  if (isSea()) {
    return { path: process.execPath, sea: true, commandFor: (file) => ({ command: file, args: rest }) };
  }
  const entry = process.argv[1];
  if (entry === undefined || entry === '' || !fs.existsSync(entry)) {
    throw codedError(
      Error,
      'ERR_OVERSEER_NO_ENTRY',
      'overseer: cannot tell which script to run in workers (no entry file)',
    );
  }
  const execArgv = [...process.execArgv];
  return {
    path: path.resolve(entry),
    sea: false,
    commandFor: (file) => ({ command: process.execPath, args: [...execArgv, file, ...rest] }),
  };
}
