// Integrity of a staged candidate: a published sha256, and an ed25519 signature checked
// with node:crypto against a configured public key. A mismatch means no swap.
import { createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs';
import { codedError } from '../errors.js';
import type { FetchedVersion } from '../fetcher/fetcher.js';
import type { Staged } from './stage.js';

export function verifyCandidate(staged: Staged, version: FetchedVersion): void {
  if (version.sha256 !== undefined) {
    const expected = version.sha256.trim().toLowerCase();
    if (expected !== staged.sha256) {
      throw codedError(
        Error,
        'ERR_OVERSEER_CHECKSUM',
        `checksum mismatch: expected ${expected}, got ${staged.sha256}`,
      );
    }
  }
  if (version.signature !== undefined || version.publicKey !== undefined) {
    if (version.signature === undefined || version.publicKey === undefined) {
      throw codedError(
        Error,
        'ERR_OVERSEER_SIGNATURE',
        'a signature check needs both the signature and the public key',
      );
    }
    let ok = false;
    try {
      const key = createPublicKey(version.publicKey);
      ok = verify(null, fs.readFileSync(staged.tempPath), key, version.signature);
    } catch (err) {
      throw codedError(
        Error,
        'ERR_OVERSEER_SIGNATURE',
        `signature check failed: ${(err as Error).message}`,
        err,
      );
    }
    if (!ok)
      throw codedError(
        Error,
        'ERR_OVERSEER_SIGNATURE',
        'the ed25519 signature does not match the new version',
      );
  }
}
