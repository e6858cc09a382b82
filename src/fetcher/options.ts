// Constructor option checks shared by the fetchers: each bad option is a coded TypeError
// that names the fetcher and the option, thrown before anything runs.
import { createPublicKey, KeyObject } from 'node:crypto';
import { codedError, errorMessage } from '../errors.js';
import { ERR_INVALID_CONFIG, invalidOption } from './errors.js';

/** The largest delay setTimeout honours; above it Node fires after 1 ms instead. */
const TIMER_MAX = 2_147_483_647;

export type Options = Record<string, unknown>;

export function optionsObject(owner: string, v: unknown, known: readonly string[]): Options {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw codedError(TypeError, ERR_INVALID_CONFIG, `${owner}: options must be an object`);
  }
  const o = v as Options;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw invalidOption(owner, key, 'is not a known option');
  }
  return o;
}

export function requiredString(owner: string, o: Options, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw invalidOption(owner, key, 'must be a non-empty string');
  return v;
}

export function optionalString(owner: string, o: Options, key: string): string | undefined {
  if (o[key] === undefined) return undefined;
  return requiredString(owner, o, key);
}

/** A number of milliseconds; `min` is 0 for intervals and 1 for timeouts. */
export function duration(owner: string, o: Options, key: string, fallback: number, min: number): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > TIMER_MAX) {
    throw invalidOption(owner, key, `must be a number of milliseconds (${min} to 2^31-1), got ${String(v)}`);
  }
  return v;
}

/** An absolute http: or https: URL. */
export function httpUrl(owner: string, o: Options, key: string, required: boolean): URL | undefined {
  const v = o[key];
  if (v === undefined && !required) return undefined;
  const text = v instanceof URL ? v.href : v;
  if (typeof text !== 'string' || text === '') throw invalidOption(owner, key, 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidOption(owner, key, `must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidOption(owner, key, `must use http: or https:, got ${url.protocol}`);
  }
  return url;
}

export function headerRecord(owner: string, o: Options, key: string): Record<string, string> {
  const v = o[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalidOption(owner, key, 'must be an object of header names to string values');
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw invalidOption(owner, `${key}.${name}`, 'must be a string');
    out[name.toLowerCase()] = value;
  }
  return out;
}

export function sha256Hex(owner: string, o: Options, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) {
    throw invalidOption(owner, key, 'must be a sha256 as 64 hex digits');
  }
  return v.toLowerCase();
}

/** An ed25519 public key, as PEM text or a KeyObject; kept as PEM for the master. */
export function ed25519PublicKey(owner: string, o: Options, key: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' && !(v instanceof KeyObject)) {
    throw invalidOption(owner, key, 'must be an ed25519 public key (PEM text or a KeyObject)');
  }
  let k: KeyObject;
  try {
    // createPublicKey takes PEM text or a private KeyObject, not a public one.
    k = v instanceof KeyObject && v.type === 'public' ? v : createPublicKey(v);
  } catch (err) {
    throw invalidOption(owner, key, `must be an ed25519 public key: ${errorMessage(err)}`);
  }
  if (k.asymmetricKeyType !== 'ed25519') {
    throw invalidOption(owner, key, `must be an ed25519 public key, got ${String(k.asymmetricKeyType)}`);
  }
  return k.export({ type: 'spki', format: 'pem' }).toString();
}
