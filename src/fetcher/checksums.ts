// Reading published integrity data. The fetchers only fetch it; the master (or, for bytes
// the fetcher gunzips, verify.ts) checks the bytes against it.
import { codedError } from '../errors.js';

const ED25519_SIGNATURE_BYTES = 64;

/**
 * The sha256 for `name` in a checksum file: a `<file>.sha256` holding one hash, or a
 * SHA256SUMS listing in coreutils (`<hex>  <name>`, `<hex> *<name>`) or BSD
 * (`SHA256 (<name>) = <hex>`) form. A file with a single hash is taken whatever it names.
 */
export function parseChecksums(text: string, name: string, what: string): string {
  const found: { hash: string; file: string | undefined }[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const gnu = /^([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/.exec(line);
    const bsd = /^SHA256 \((.+)\) = ([0-9a-fA-F]{64})$/.exec(line);
    if (gnu) found.push({ hash: gnu[1]!, file: gnu[2] });
    else if (bsd) found.push({ hash: bsd[2]!, file: bsd[1] });
  }
  const named = found.find((f) => f.file !== undefined && basenameOf(f.file) === name);
  const hash = named?.hash ?? (found.length === 1 ? found[0]!.hash : undefined);
  if (hash === undefined) {
    throw codedError(
      Error,
      'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      found.length === 0 ? `${what} holds no sha256 checksums` : `${what} has no checksum for ${name}`,
    );
  }
  return hash.toLowerCase();
}

function basenameOf(file: string): string {
  return file.trim().replace(/^.*\//, '');
}

/** A detached ed25519 signature: 64 raw bytes, or the same as base64 (or hex) text. */
export function decodeSignature(body: Buffer, what: string): Buffer {
  if (body.length === ED25519_SIGNATURE_BYTES) return body;
  const text = body.toString('utf8').trim();
  let sig: Buffer | undefined;
  if (/^[0-9a-fA-F]{128}$/.test(text)) sig = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) sig = Buffer.from(text, 'base64');
  if (sig?.length !== ED25519_SIGNATURE_BYTES) {
    throw codedError(
      Error,
      'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      `${what} is not an ed25519 signature (64 raw bytes, or base64 text of them)`,
    );
  }
  return sig;
}
