// Release archives (.tar.gz/.tgz) for apps that are directories with node_modules. The
// layout is the usual one: binPath runs through a `current` symlink,
//   /srv/app/current -> releases/<id>      binPath = /srv/app/current/server.js
// A new release is extracted to releases/<id>/ (refusing entries that escape it), checked,
// and switched in by renaming a fresh symlink over `current`, which is atomic.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { ArchiveTree } from './archive-tree.js';
import { listed, ownTag, removeIfOrphan, sweepStaging } from './stage.js';

export interface ReleaseLayout {
  /** The symlink that names the running release. */
  current: string;
  /** Where releases are extracted. */
  releases: string;
  /** binPath relative to `current`. */
  entry: string;
}

export function isArchive(name: string | undefined): boolean {
  return name !== undefined && /\.(tar\.gz|tgz)$/i.test(name);
}

/** The nearest ancestor of binPath that is a symlink is `current`; releases/ sits beside it. */
export function releaseLayout(binPath: string): ReleaseLayout {
  for (let dir = path.dirname(binPath); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    let isLink = false;
    try {
      isLink = fs.lstatSync(dir).isSymbolicLink();
    } catch {}
    if (isLink) {
      return {
        current: dir,
        releases: path.join(path.dirname(dir), 'releases'),
        entry: path.relative(dir, binPath),
      };
    }
  }
  throw codedError(
    Error,
    'ERR_OVERSEER_ARCHIVE_LAYOUT',
    `release archives need binPath under a symlinked release directory (e.g. /srv/app/current -> releases/v1), and ${binPath} is not`,
  );
}

const SAFE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

function unsafe(entry: string, why: string): Error {
  return codedError(Error, 'ERR_OVERSEER_ARCHIVE_UNSAFE', `refusing the archive: ${entry} ${why}`);
}

/**
 * Reads every entry header first, and refuses the whole archive for one entry that would
 * land outside it: an absolute path, a `..`, a device or fifo, or a link (or a path under
 * one) that resolves, through the archive's own links, outside the release; or for entries
 * that add up to more than `maxBytes`, the fetcher's bound on a version, so that a small
 * archive cannot fill the disk (the sizes are the ones extraction writes). Reading stops at
 * the first such entry.
 */
export async function checkArchive(file: string, maxBytes: number): Promise<void> {
  let problem: Error | undefined;
  let bytes = 0;
  const tree = new ArchiveTree();
  const parser = new tar.Parser({
    strict: true,
    onReadEntry: (entry) => {
      entry.resume();
      if (problem) return;
      bytes += entry.size;
      if (!SAFE_TYPES.has(entry.type)) {
        problem = unsafe(entry.path, `is a ${entry.type}`);
      } else if (bytes > maxBytes) {
        problem = codedError(
          Error,
          'ERR_OVERSEER_FETCH_TOO_LARGE',
          `refusing the archive: it holds more than maxBytes (${maxBytes} bytes) once extracted`,
        );
      } else {
        const found = tree.add(entry.path, entry.type, entry.linkpath ?? '');
        if (found) problem = unsafe(found.entry, found.why);
      }
      if (problem) parser.abort(problem);
    },
  });
  const input = fs.createReadStream(file);
  try {
    await new Promise<void>((resolve, reject) => {
      parser.on('end', resolve);
      parser.on('error', reject);
      input.on('error', reject);
      input.pipe(parser);
    });
  } catch (err) {
    throw problem ?? unreadable(err);
  } finally {
    input.destroy();
  }
  if (problem) throw problem;
  const found = tree.check();
  if (found) throw unsafe(found.entry, found.why);
}

/** node-tar's and zlib's own errors (TAR_BAD_ARCHIVE, TAR_ABORT, Z_DATA_ERROR) as the registry's. */
function unreadable(err: unknown): unknown {
  const code = errorCode(err) ?? '';
  if (!code.startsWith('TAR_') && !code.startsWith('Z_')) return err;
  return codedError(
    Error,
    'ERR_OVERSEER_ARCHIVE_BAD',
    `the release archive cannot be read: ${errorMessage(err)}`,
    err,
  );
}

/** Setuid, setgid and sticky bits never survive extraction: a root master must not make a setuid file. */
const PERMISSION_BITS = 0o777;

/** What marks a release directory still being extracted: `<id>.overseer-tmp-<ownTag()>`. */
const EXTRACTING = '.overseer-tmp-';

/** Removes what a master that is gone left in `releases`: an archive staged, a release half extracted. */
export function sweepReleases(releases: string): void {
  sweepStaging(path.join(releases, STAGED_ARCHIVE));
  for (const entry of listed(releases)) {
    const at = entry.indexOf(EXTRACTING);
    if (at > 0) removeIfOrphan(path.join(releases, entry), entry.slice(at + EXTRACTING.length));
  }
}

/** The name a release archive is staged under in `releases` (tempPathFor's base). */
export const STAGED_ARCHIVE = 'release.tar.gz';

/** Extracts into a temp directory beside `dest` and renames it into place. */
export async function extractRelease(file: string, dest: string): Promise<void> {
  const tmp = `${dest}${EXTRACTING}${ownTag()}`;
  fs.mkdirSync(tmp, { recursive: true, mode: 0o755 });
  try {
    await tar.x({
      file,
      cwd: tmp,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      filter: (_path, entry) => {
        if ('mode' in entry && typeof entry.mode === 'number') entry.mode &= PERMISSION_BITS;
        return true;
      },
    });
    fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw unreadable(err);
  }
}

/** Points `current` at `target` atomically: a temp symlink renamed over it. Returns the old target. */
export function switchCurrent(current: string, target: string): string {
  const previous = fs.readlinkSync(current);
  const tmp = `${current}.overseer-${randomBytes(4).toString('hex')}`;
  fs.symlinkSync(path.relative(path.dirname(current), target), tmp);
  try {
    fs.renameSync(tmp, current);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  debug('%s -> %s (was %s)', current, target, previous);
  return previous;
}

/** Puts `current` back to a target returned by switchCurrent. */
export function restoreCurrent(current: string, previous: string): void {
  switchCurrent(current, path.resolve(path.dirname(current), previous));
}

/** The release directories in `releases`, newest first (none being extracted). */
export function releasesNewestFirst(releases: string): string[] {
  return fs
    .readdirSync(releases, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.includes('.overseer-'))
    .map((d) => path.join(releases, d.name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
}

/** Keeps the newest `keep` releases, and never the ones named in `protect`. */
export function pruneReleases(releases: string, keep: number, protect: string[]): void {
  const keepers = new Set(protect.map((p) => path.resolve(p)));
  let kept = 0;
  for (const dir of releasesNewestFirst(releases)) {
    if (keepers.has(path.resolve(dir)) || kept < keep) {
      kept++;
      continue;
    }
    debug('pruning release %s', dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
