// FileFetcher's looks at a file without reading it (what they compare is ../file-stat.ts).
import { stat } from 'node:fs/promises';
import { codedError } from '../errors.js';
import { type FileStat, fileStat, sameStat } from '../file-stat.js';
import { sleep } from '../sleep.js';

/** The file's stat, or null when it (or its directory) does not exist. */
export async function statOrNull(path: string): Promise<FileStat | null> {
  try {
    const s = await stat(path);
    if (!s.isFile())
      throw codedError(Error, 'ERR_OVERSEER_FETCH_FAILED', `FileFetcher: ${path} is not a regular file`);
    return fileStat(s);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
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
