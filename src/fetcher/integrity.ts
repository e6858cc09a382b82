// Integrity of a version: its published sha256, and a detached ed25519 signature checked
// against a configured public key. One check, with one pair of codes, wherever it runs: in
// the master on the staged file, or here in the fetcher for a `.gz` it gunzips, whose
// checksum and signature cover compressed bytes the master never sees.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { Transform } from 'node:stream';
import { codedError, errorMessage } from '../errors.js';

export interface Integrity {
  sha256?: string;
  signature?: Buffer;
  publicKey?: string;
}

export function hasIntegrity(i: Integrity): boolean {
  return i.sha256 !== undefined || i.signature !== undefined || i.publicKey !== undefined;
}

/** Throws ERR_OVERSEER_CHECKSUM or ERR_OVERSEER_SIGNATURE; `message()` gives the signed bytes. */
export function checkIntegrity(
  expected: Integrity,
  actualSha256: string,
  message: () => Buffer,
  what: string,
): void {
  if (expected.sha256 !== undefined) {
    const want = expected.sha256.trim().toLowerCase();
    if (want !== actualSha256) {
      throw codedError(
        Error,
        'ERR_OVERSEER_CHECKSUM',
        `${what}: checksum mismatch: expected ${want}, got ${actualSha256}`,
      );
    }
  }
  if (expected.signature === undefined && expected.publicKey === undefined) return;
  if (expected.signature === undefined || expected.publicKey === undefined) {
    throw codedError(
      Error,
      'ERR_OVERSEER_SIGNATURE',
      `${what}: a signature check needs both the signature and the public key`,
    );
  }
  let ok: boolean;
  try {
    ok = verify(null, message(), createPublicKey(expected.publicKey), expected.signature);
  } catch (err) {
    throw codedError(
      Error,
      'ERR_OVERSEER_SIGNATURE',
      `${what}: signature check failed: ${errorMessage(err)}`,
      err,
    );
  }
  if (!ok) throw codedError(Error, 'ERR_OVERSEER_SIGNATURE', `${what}: the ed25519 signature does not match`);
}

/**
 * Checks the bytes that pass through; a mismatch errors the stream before it ends. ed25519
 * signs the whole message at once, so a signed download is held in memory (bounded by the
 * fetcher's maxBytes).
 */
export function integrityCheck(expected: Integrity, what: string): Transform {
  const hash = createHash('sha256');
  const held: Buffer[] | undefined = expected.signature ? [] : undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      held?.push(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      try {
        checkIntegrity(expected, hash.digest('hex'), () => Buffer.concat(held ?? []), what);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
