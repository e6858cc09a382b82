// The candidate's side of the upgrade sanity check: a process started with
// OVERSEER_BIN_CHECK=<token> prints the token and exits. run() does this first; a program that
// does slow work before run() can call sanityCheck() earlier itself.
import fs from 'node:fs';
import { ENV } from './env.js';

/** Whether this process is a new version's sanity check (`overseer run`'s preload asks). */
export function isSanityCheck(): boolean {
  return process.env[ENV.binCheck] !== undefined;
}

export function sanityCheck(): void {
  const token = process.env[ENV.binCheck];
  if (token === undefined) return;
  fs.writeSync(1, `${token}\n`);
  process.exit(0);
}
