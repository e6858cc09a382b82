// Staging: the candidate is written next to binPath (same directory, so the swap is one
// atomic rename that never crosses devices), hashed while it is written, given the running
// binary's mode, and fsynced. Any failure removes the temp file and leaves binPath alone.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { causeCode, codedError, errorCode, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { processRuns } from '../os/process-runs.js';

export interface Staged {
  tempPath: string;
  sha256: string;
  size: number;
}

/**
 * A temp name beside `file` that keeps its extension, so node loads it the same way, and
 * names this master's pid, so that a later master can tell one left by a master that is gone.
 */
export function tempPathFor(file: string): string {
  const { dir, name, ext } = path.parse(file);
  return path.join(dir, `.${name}.overseer-new-${ownTag()}${ext}`);
}

/** `<pid>-<random>`: the part of a temp name that says whose it is. */
export function ownTag(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Removes the staging files beside `file` (`tempPathFor(file)`'s) whose master is no longer
 * running: one SIGKILLed mid-download leaves up to maxBytes behind, which nothing else removes.
 * It runs as a fetch cycle starts, when this master stages nothing, so its own pid's are stale
 * too (a reused pid).
 */
export function sweepStaging(file: string): void {
  const { dir, name, ext } = path.parse(file);
  const prefix = `.${name}.overseer-new-`;
  for (const entry of listed(dir)) {
    if (!entry.startsWith(prefix) || !entry.endsWith(ext)) continue;
    removeIfOrphan(path.join(dir, entry), entry.slice(prefix.length, entry.length - ext.length));
  }
}

/** The names in `dir`; none when it cannot be read (a sweep is best effort). */
export function listed(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * How long a staging file must have gone unwritten before a sweep may take it. A pid says
 * nothing across pid namespaces (containers sharing binPath's volume, each master pid 1),
 * and a staging under way writes at least every fetch timeout.
 */
const ORPHAN_AFTER_MS = 10 * 60_000;

/**
 * Removes `file` (or directory) when `tag` is an ownTag() whose pid runs no process (or is
 * this master's, which is not staging now) and nothing has written it for ORPHAN_AFTER_MS.
 * A removal that fails is left for the next sweep: it must never stop the master.
 */
export function removeIfOrphan(file: string, tag: string): void {
  const pid = Number(/^(\d+)-[0-9a-f]{8}$/.exec(tag)?.[1]);
  if (!(pid > 0) || (pid !== process.pid && processRuns(pid))) return;
  try {
    if (Date.now() - fs.lstatSync(file).mtimeMs < ORPHAN_AFTER_MS) return;
    debug('removing %s, left by pid %d, which is gone', file, pid);
    fs.rmSync(file, { recursive: true, force: true });
  } catch (err) {
    debug('cannot remove %s: %s', file, errorMessage(err));
  }
}

/** Stages `stream` beside `binPath`; the temp file takes `modeFrom`'s mode (binPath's by default). */
export async function stage(
  stream: Readable,
  binPath: string,
  signal?: AbortSignal,
  modeFrom: string | null = binPath,
): Promise<Staged> {
  const tempPath = tempPathFor(binPath);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  let fd: number;
  try {
    fd = fs.openSync(tempPath, 'wx', 0o600);
  } catch (err) {
    stream.destroy();
    throw codedError(
      Error,
      causeCode(err, 'ERR_OVERSEER_STAGE'),
      `staging failed: cannot write next to ${binPath} (${errorMessage(err)})`,
      err,
    );
  }
  try {
    const out = fs.createWriteStream('', { fd, autoClose: true });
    await pipeline(stream, tap, out, ...(signal ? [{ signal }] : []));
    if (size === 0) throw codedError(Error, 'ERR_OVERSEER_EMPTY_CANDIDATE', 'the new version is empty');
    if (modeFrom !== null) fs.chmodSync(tempPath, fs.statSync(modeFrom).mode & 0o7777);
    const sync = fs.openSync(tempPath, 'r+'); // Windows' FlushFileBuffers needs write access
    try {
      fs.fsyncSync(sync);
    } finally {
      fs.closeSync(sync);
    }
  } catch (err) {
    stream.destroy();
    fs.rmSync(tempPath, { force: true });
    const code = errorCode(err);
    const why =
      code === 'ENOSPC' ? 'the disk is full' : code === 'EDQUOT' ? 'over the disk quota' : 'download failed';
    throw codedError(
      Error,
      causeCode(err, 'ERR_OVERSEER_STAGE'),
      `staging failed (${why}): ${errorMessage(err)}`,
      err,
    );
  }
  return { tempPath, sha256: hash.digest('hex'), size };
}
