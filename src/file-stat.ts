// What identifies a file's content without reading it, for those who must notice when a file
// changed (FileFetcher's watched file, the master's program). ctime and inode are part of it
// because `cp -p` and rsync keep mtime and size, but a write or a rename always moves ctime.
import type { Stats } from 'node:fs';

export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

export function fileStat(s: Stats): FileStat {
  return { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
}

export function sameStat(a: FileStat | null, b: FileStat | null): boolean {
  if (a === null || b === null) return a === b;
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}
