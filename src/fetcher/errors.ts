// The fetchers' coded errors. The master logs them and tries again on its next check, so
// each one says which fetcher, which request and what went wrong, and carries a stable code
// from the one registry (codes.ts); these constants name the ones a fetcher makes.
import { codes, type ErrorCode } from '../codes.js';
import { codedError } from '../errors.js';

export const ERR_INVALID_CONFIG = codes.ERR_OVERSEER_INVALID_CONFIG;
/** A non-2xx answer; the error has `status`. */
export const ERR_FETCH_HTTP = codes.ERR_OVERSEER_FETCH_HTTP;
/** GitHub's rate limit; the error has `status` and `resetAt` (a Date, when known). */
export const ERR_FETCH_RATE_LIMITED = codes.ERR_OVERSEER_FETCH_RATE_LIMITED;
/** No answer, or no data in the body, within `timeout` ms; or a download past its `deadline`. */
export const ERR_FETCH_TIMEOUT = codes.ERR_OVERSEER_FETCH_TIMEOUT;
/** The connection failed or broke (refused, reset, DNS). */
export const ERR_FETCH_FAILED = codes.ERR_OVERSEER_FETCH_FAILED;
/** The body ended before Content-Length bytes arrived. */
export const ERR_FETCH_TRUNCATED = codes.ERR_OVERSEER_FETCH_TRUNCATED;
/** A version larger than the fetcher's maxBytes, by its Content-Length, as it arrives, or gunzipped. */
export const ERR_FETCH_TOO_LARGE = codes.ERR_OVERSEER_FETCH_TOO_LARGE;
/** A body that arrives slower than the fetcher's minBytesPerSecond. */
export const ERR_FETCH_TOO_SLOW = codes.ERR_OVERSEER_FETCH_TOO_SLOW;
/** A malformed answer: bad JSON, no asset that matches, a checksum file without our file. */
export const ERR_FETCH_BAD_RESPONSE = codes.ERR_OVERSEER_FETCH_BAD_RESPONSE;
/** A fetcherFunc function resolved to something that is not a stream, a FetchedVersion or null. */
export const ERR_FETCH_INVALID_RESULT = codes.ERR_OVERSEER_FETCH_INVALID_RESULT;

/** A bad constructor option: `FileFetcher: options.path must be a non-empty string`. */
export function invalidOption(owner: string, field: string, problem: string): TypeError & { code: string } {
  return codedError(TypeError, ERR_INVALID_CONFIG, `${owner}: options.${field} ${problem}`);
}

export function fetchError(
  code: ErrorCode,
  message: string,
  cause?: unknown,
  extra?: Record<string, unknown>,
): Error & { code: string } {
  const err = codedError(Error, code, message, cause);
  if (extra) Object.assign(err, extra);
  return err;
}
