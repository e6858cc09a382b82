// fetcherFunc: any async function as a Fetcher, for sources overseer does not ship (S3, a
// registry, a message queue). Its results are checked, so a wrong return value is a clear
// error in the fetcher and not a confusing one in the master's staging.
import type { Readable } from 'node:stream';
import { codedError, invalidFor } from '../errors.js';
import type { FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';

export type FetchFunction = (
  signal: AbortSignal,
  options?: FetchOptions,
) => Promise<Readable | FetchedVersion | null>;

export function fetcherFunc(fn: FetchFunction): Fetcher {
  if (typeof fn !== 'function') {
    throw invalidFor('fetcherFunc', '')('fn', 'must be a function');
  }
  return {
    async fetch(signal: AbortSignal, options: FetchOptions = {}): Promise<Readable | FetchedVersion | null> {
      signal.throwIfAborted();
      const result: unknown = await fn(signal, options);
      if (result === null || result === undefined) return null;
      if (isReadable(result)) return result;
      if (typeof result === 'object' && isReadable((result as FetchedVersion).stream)) {
        return result as FetchedVersion;
      }
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_INVALID_RESULT',
        'fetcherFunc: the function must resolve to a Readable, a { stream, … } FetchedVersion, or null',
      );
    },
  };
}

function isReadable(v: unknown): v is Readable {
  const r = v as Partial<Readable> | null;
  return typeof r === 'object' && r !== null && typeof r.pipe === 'function' && typeof r.on === 'function';
}
