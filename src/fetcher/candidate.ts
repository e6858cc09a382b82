// Turning downloaded bytes into a FetchedVersion. A `.gz` download (but not a .tar.gz/.tgz
// release archive, which the master extracts itself) is gunzipped, as the Go library did,
// unless the server already sent it with Content-Encoding: gzip, which fetch has decoded.
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { codedError, errorCode } from '../errors.js';
import type { FetchedVersion } from './fetcher.js';
import { hasIntegrity, type Integrity, integrityCheck } from './integrity.js';
import { limitBytes } from './limits.js';

/** A file published compressed (.gz, .tgz): fetched as it is, for its checksum. */
export function isCompressed(name: string): boolean {
  return /\.(gz|tgz)$/i.test(name);
}

export function isPlainGzip(name: string): boolean {
  const n = name.toLowerCase();
  return n.endsWith('.gz') && !n.endsWith('.tar.gz');
}

export interface CandidateInput extends Integrity {
  bytes: Readable;
  /** The file name as published ('app.js.gz'). */
  name: string;
  contentEncoding: string | null;
  source: string;
  /** A label; undefined when nothing names this version before its bytes are read. */
  version: string | undefined;
  commit: (() => void) | undefined;
  /** The most bytes the gunzipped version, or an extracted archive, may have (a bomb stops here). */
  maxBytes: number;
}

export function candidate(input: CandidateInput): FetchedVersion {
  const { bytes, name, source } = input;
  const label = {
    ...(input.version === undefined ? {} : { version: input.version }),
    ...(input.commit === undefined ? {} : { commit: input.commit }),
  };
  const integrity: Integrity = {
    sha256: input.sha256,
    signature: input.signature,
    publicKey: input.publicKey,
  };
  if (!isPlainGzip(name) || input.contentEncoding?.toLowerCase() === 'gzip') {
    return { stream: bytes, name, source, ...label, ...defined(integrity), maxBytes: input.maxBytes };
  }
  // The master reads `out`, which the pipeline does not destroy with its own error: the
  // callback does, with zlib's named as the registry's. A consumer that stops ends it all.
  const out = new PassThrough();
  const bound = limitBytes(input.maxBytes, `${source}, gunzipped,`);
  const check = hasIntegrity(integrity) ? [integrityCheck(integrity, source)] : [];
  pipeline([bytes, ...check, createGunzip(), bound], (err) => {
    if (err) out.destroy(gunzipError(err, source));
  });
  bound.pipe(out);
  out.on('close', () => bytes.destroy());
  return { stream: out, name: name.slice(0, -'.gz'.length), source, ...label };
}

/** zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR) say neither what nor where: the server sent a bad .gz. */
function gunzipError(err: Error, source: string): Error {
  if (!errorCode(err)?.startsWith('Z_')) return err;
  return codedError(
    Error,
    'ERR_OVERSEER_FETCH_BAD_RESPONSE',
    `${source} is not a whole gzip file: ${err.message}`,
    err,
  );
}

function defined(i: Integrity): Integrity {
  const out: Integrity = {};
  if (i.sha256 !== undefined) out.sha256 = i.sha256;
  if (i.signature !== undefined) out.signature = i.signature;
  if (i.publicKey !== undefined) out.publicKey = i.publicKey;
  return out;
}
