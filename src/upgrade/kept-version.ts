// The newest good version a master still has on disk, for a rollback from a version that a
// release manifest marked bad: for a single entry file, `<binPath>.prev` (swap.ts keeps it);
// for release archives, the kept release directories beside `current`, newest first
// (archive.ts keeps `keepReleases` of them). "Good" is the caller's to judge, by the hashes.
import fs from 'node:fs';
import path from 'node:path';
import { hashFile } from '../hash.js';
import { releaseLayout, releasesNewestFirst } from './archive.js';
import { prevPathOf } from './swap.js';

export type KeptVersion =
  /** `<binPath>.prev`, whose content is `sha256`. */
  | { kind: 'file'; path: string; sha256: string }
  /** A release directory (named by its archive's id), whose entry file's content is `sha256`. */
  | { kind: 'release'; dir: string; id: string; entry: string; sha256: string };

/** The hashes that name a kept version: its entry file's, and a release's id. */
export function keptHashes(k: KeptVersion): string[] {
  return k.kind === 'file' ? [k.sha256] : [k.sha256, k.id];
}

/** The newest kept version for which `isBad` is false, or undefined when there is none. */
export async function newestGood(
  binPath: string,
  isBad: (k: KeptVersion) => boolean,
): Promise<KeptVersion | undefined> {
  for (const k of await kept(binPath)) if (!isBad(k)) return k;
  return undefined;
}

/** Every version kept beside the running one, newest first. */
async function kept(binPath: string): Promise<KeptVersion[]> {
  let layout: ReturnType<typeof releaseLayout> | undefined;
  try {
    layout = releaseLayout(binPath);
  } catch {
    // Not a release layout: a single file, with at most its .prev.
  }
  if (layout === undefined || !fs.existsSync(layout.releases)) {
    const prev = prevPathOf(binPath);
    return fs.existsSync(prev) ? [{ kind: 'file', path: prev, sha256: await hashFile(prev) }] : [];
  }
  const running = realpathOrNull(layout.current);
  const out: KeptVersion[] = [];
  for (const dir of releasesNewestFirst(layout.releases)) {
    const entry = path.join(dir, layout.entry);
    if (realpathOrNull(dir) === running || !fs.existsSync(entry)) continue;
    out.push({ kind: 'release', dir, id: path.basename(dir), entry, sha256: await hashFile(entry) });
  }
  return out;
}

function realpathOrNull(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

/** The id of the release directory `current` points at, when binPath runs from one. */
export function runningReleaseId(binPath: string): string | undefined {
  try {
    const dir = realpathOrNull(releaseLayout(binPath).current);
    return dir === null ? undefined : path.basename(dir);
  } catch {
    return undefined;
  }
}
