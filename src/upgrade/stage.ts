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

export interface Staged {
  tempPath: string;
  sha256: string;
  size: number;
}

/** A temp name beside `file` that keeps its extension, so node loads it the same way. */
export function tempPathFor(file: string, tag = 'new'): string {
  const ext = path.extname(file);
  const base = path.basename(file, ext);
  return path.join(path.dirname(file), `.${base}.overseer-${tag}-${randomBytes(4).toString('hex')}${ext}`);
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
