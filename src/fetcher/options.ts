// Constructor option checks shared by the fetchers: each bad option is a coded TypeError
// that names the fetcher and the option, thrown before anything runs.
import { createPublicKey, KeyObject } from 'node:crypto';
import { errorMessage, type InvalidFor, invalidFor } from '../errors.js';
import {
  booleanOption,
  durationOption,
  httpUrlOption,
  integerOption,
  type Options,
  onlyKnown,
  stringOption,
  stringRecordOption,
} from '../options.js';

export type { Options } from '../options.js';

/** A bad option of `owner`: `HTTPFetcher: options.url must be …`. */
const invalid = (owner: string): InvalidFor => invalidFor(owner, 'options.');

export function optionsObject(owner: string, v: unknown, known: readonly string[]): Options {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(owner)('', 'must be an object');
  }
  onlyKnown(v as Options, known, invalid(owner));
  return v as Options;
}

export function requiredString(owner: string, o: Options, key: string): string {
  const v = stringOption(o, key, invalid(owner), true);
  if (v === undefined) throw invalid(owner)(key, 'must be a non-empty string');
  return v;
}

export function optionalString(owner: string, o: Options, key: string): string | undefined {
  return stringOption(o, key, invalid(owner), true);
}

/** A number of milliseconds; `min` is 0 for intervals and 1 for timeouts. */
export function duration(owner: string, o: Options, key: string, fallback: number, min: 0 | 1): number {
  return durationOption(o, key, fallback, min, invalid(owner));
}

export function integer(owner: string, o: Options, key: string, fallback: number, min: number): number {
  return integerOption(o, key, fallback, { min, max: Number.MAX_SAFE_INTEGER }, invalid(owner));
}

/** A mistake in one option of `owner`, as the checks below make it. */
export function invalidOption(owner: string, key: string, problem: string): TypeError {
  return invalid(owner)(key, problem);
}

export function booleanOf(owner: string, o: Options, key: string): boolean {
  return booleanOption(o, key, false, invalid(owner));
}

/** Options that do not apply once `mode` is set: setting one is a mistake, not a silent no-op. */
export function refusedWith(owner: string, o: Options, mode: string, keys: readonly string[]): void {
  const set = keys.find((k) => o[k] !== undefined);
  if (set !== undefined) throw invalid(owner)(set, `does not apply with ${invalid(owner).named(mode)}`);
}

/** An absolute http: or https: URL; a required one that is missing is a mistake too. */
export function httpUrl(owner: string, o: Options, key: string, required: boolean): URL | undefined {
  if (required && o[key] === undefined) throw invalid(owner)(key, 'must be an http(s) URL');
  return httpUrlOption(o, key, invalid(owner));
}

/** RFC 9110's token, a header's name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Header names (lowercased) to string values, checked here: fetch() would refuse a bad one only
 * at the first check, uncoded.
 */
export function headerRecord(owner: string, o: Options, key: string): Record<string, string> {
  const record = stringRecordOption(o, key, invalid(owner)) ?? {};
  for (const [name, value] of Object.entries(record)) {
    if (!HEADER_NAME.test(name)) throw invalid(owner)(`${key}.${name}`, 'is not a valid header name');
    if (/[\r\n\0]/.test(value)) throw invalid(owner)(`${key}.${name}`, 'must not hold CR, LF or NUL');
  }
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
}

export function sha256Hex(owner: string, o: Options, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) {
    throw invalid(owner)(key, 'must be a sha256 as 64 hex digits');
  }
  return v.toLowerCase();
}

/** An ed25519 public key, as PEM text or a KeyObject; kept as PEM for the master. */
export function ed25519PublicKey(owner: string, o: Options, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && !(v instanceof KeyObject)) {
    throw invalid(owner)(key, 'must be an ed25519 public key (PEM text or a KeyObject)');
  }
  let k: KeyObject;
  try {
    // createPublicKey takes PEM text or a private KeyObject, not a public one.
    k = v instanceof KeyObject && v.type === 'public' ? v : createPublicKey(v);
  } catch (err) {
    throw invalid(owner)(key, `must be an ed25519 public key: ${errorMessage(err)}`);
  }
  if (k.asymmetricKeyType !== 'ed25519') {
    throw invalid(owner)(key, `must be an ed25519 public key, got ${String(k.asymmetricKeyType)}`);
  }
  return k.export({ type: 'spki', format: 'pem' }).toString();
}
