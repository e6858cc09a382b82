// Turning downloaded bytes into a FetchedVersion. A `.gz` download (but not a .tar.gz/.tgz
// release archive, which the master extracts itself) is gunzipped, as the Go library did,
// unless the server already sent it with Content-Encoding: gzip, which fetch has decoded.
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FetchedVersion } from './fetcher.js';
import { hasIntegrity, type Integrity, integrityCheck } from './verify.js';

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
  version: string;
  commit: () => void;
}

export function candidate(input: CandidateInput): FetchedVersion {
  const { bytes, name, source, version, commit } = input;
  const integrity: Integrity = {
    sha256: input.sha256,
    signature: input.signature,
    publicKey: input.publicKey,
  };
  if (!isPlainGzip(name) || input.contentEncoding?.toLowerCase() === 'gzip') {
    return { stream: bytes, name, source, version, ...defined(integrity), commit };
  }
  // pipeline() destroys every stage on any error, so the stream the master reads errors too.
  const stages = hasIntegrity(integrity)
    ? pipeline(bytes, integrityCheck(integrity, `${source}`), createGunzip(), () => {})
    : pipeline(bytes, createGunzip(), () => {});
  return { stream: stages, name: name.slice(0, -'.gz'.length), source, version, commit };
}

function defined(i: Integrity): Integrity {
  const out: Integrity = {};
  if (i.sha256 !== undefined) out.sha256 = i.sha256;
  if (i.signature !== undefined) out.signature = i.signature;
  if (i.publicKey !== undefined) out.publicKey = i.publicKey;
  return out;
}
