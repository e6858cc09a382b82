// Turning downloaded bytes into a FetchedVersion. A `.gz` download (but not a .tar.gz/.tgz
// release archive, which the master extracts itself) is gunzipped, as the Go library did,
// unless the server already sent it with Content-Encoding: gzip, which fetch has decoded.
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FetchedVersion } from './fetcher.js';
import { hasIntegrity, type Integrity, integrityCheck } from './integrity.js';
import { limitBytes } from './limits.js';

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
  // pipeline() destroys every stage on any error, so the stream the master reads errors too.
  const bound = limitBytes(input.maxBytes, `${source}, gunzipped,`);
  const stages = hasIntegrity(integrity)
    ? pipeline(bytes, integrityCheck(integrity, `${source}`), createGunzip(), bound, () => {})
    : pipeline(bytes, createGunzip(), bound, () => {});
  return { stream: stages, name: name.slice(0, -'.gz'.length), source, ...label };
}

function defined(i: Integrity): Integrity {
  const out: Integrity = {};
  if (i.sha256 !== undefined) out.sha256 = i.sha256;
  if (i.signature !== undefined) out.signature = i.signature;
  if (i.publicKey !== undefined) out.publicKey = i.publicKey;
  return out;
}
