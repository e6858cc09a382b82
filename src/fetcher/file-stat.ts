// What FileFetcher knows about a file without reading it. ctime and inode are part of it
// because `cp -p` and rsync keep mtime and size, but a write or a rename always moves ctime.
import { stat } from 'node:fs/promises';
import { codedError } from '../errors.js';
import { sleep } from '../sleep.js';

export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The file's stat, or null when it (or its directory) does not exist. */
export async function statOrNull(path: string): Promise<FileStat | null> {
  try {
    const s = await stat(path);
    if (!s.isFile())
      throw codedError(Error, 'ERR_OVERSEER_FETCH_FAILED', `FileFetcher: ${path} is not a regular file`);
    return { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

export function sameStat(a: FileStat | null, b: FileStat | null): boolean {
  if (a === null || b === null) return a === b;
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/**
 * Waits until two looks `settle` ms apart agree, so a file still being copied or written in
 * chunks is not taken half-done. Null when the file is (or becomes) missing.
 */
export async function waitUntilStable(
  path: string,
  signal: AbortSignal,
  settle: number,
): Promise<FileStat | null> {
  let prev = await statOrNull(path);
  while (prev !== null) {
    await sleep(settle, signal);
    const next = await statOrNull(path);
    if (sameStat(prev, next)) return next;
    prev = next;
  }
  return null;
}
