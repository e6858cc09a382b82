// Integrity checked inside the fetcher, for the one case the master cannot: a `.gz` the
// fetcher gunzips, whose published checksum and signature cover the compressed bytes the
// master never sees. A mismatch errors the stream before it ends, so nothing is swapped.
import { createHash, verify } from 'node:crypto';
import { Transform } from 'node:stream';
import { ERR_FETCH_INTEGRITY, fetchError } from './errors.js';

export interface Integrity {
  sha256?: string;
  signature?: Buffer;
  publicKey?: string;
}

export function hasIntegrity(i: Integrity): boolean {
  return i.sha256 !== undefined || i.signature !== undefined;
}

export function integrityCheck(expected: Integrity, what: string): Transform {
  const hash = createHash('sha256');
  // ed25519 signs the whole message at once, so a signed download is held in memory.
  const held: Buffer[] | undefined = expected.signature ? [] : undefined;
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      held?.push(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      if (expected.sha256 !== undefined && actual !== expected.sha256) {
        callback(
          fetchError(
            ERR_FETCH_INTEGRITY,
            `${what}: sha256 ${actual} does not match the published ${expected.sha256}`,
          ),
        );
        return;
      }
      if (held && expected.signature && expected.publicKey) {
        if (!verify(null, Buffer.concat(held), expected.publicKey, expected.signature)) {
          callback(fetchError(ERR_FETCH_INTEGRITY, `${what}: the ed25519 signature does not verify`));
          return;
        }
      }
      callback();
    },
  });
}
