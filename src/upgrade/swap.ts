// The swap: keep the running file as <binPath>.prev, rename the candidate over binPath,
// fsync the directory. Each step is atomic, so binPath always holds a whole version.
import fs from 'node:fs';
import path from 'node:path';
import { debug } from '../log.js';
import { platform } from '../os/index.js';

export function prevPathOf(binPath: string): string {
  return `${binPath}.prev`;
}

export function swapIn(tempPath: string, binPath: string, sea = false): void {
  const prev = prevPathOf(binPath);
  fs.rmSync(prev, { force: true });
  try {
    fs.linkSync(binPath, prev); // the old version stays in place until the rename
  } catch {
    fs.copyFileSync(binPath, prev);
  }
  platform.replaceFile(tempPath, binPath, sea);
  fsyncDir(path.dirname(binPath));
  debug('swapped %s in (previous kept as %s)', binPath, prev);
}

/** Puts <binPath>.prev back, atomically. */
export function rollBack(binPath: string): void {
  fs.renameSync(prevPathOf(binPath), binPath);
  fsyncDir(path.dirname(binPath));
  debug('rolled %s back', binPath);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    debug('fsync %s: %s', dir, (err as Error).message); // not every platform can fsync a directory
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
