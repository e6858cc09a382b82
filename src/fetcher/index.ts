// overseer/fetcher: where new versions come from.
export type { AssetSelector } from './asset-match.js';
export { pickDefaultAsset } from './asset-match.js';
export {
  ERR_FETCH_BAD_RESPONSE,
  ERR_FETCH_FAILED,
  ERR_FETCH_HTTP,
  ERR_FETCH_INVALID_RESULT,
  ERR_FETCH_RATE_LIMITED,
  ERR_FETCH_TIMEOUT,
  ERR_FETCH_TOO_LARGE,
  ERR_FETCH_TOO_SLOW,
  ERR_FETCH_TRUNCATED,
} from './errors.js';
export type { FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
export { FileFetcher, type FileFetcherOptions } from './file.js';
export { type FetchFunction, fetcherFunc } from './func.js';
export { type CompanionSelector, GitHubFetcher, type GitHubFetcherOptions } from './github.js';
export type { GitHubAsset, GitHubRelease } from './github-types.js';
export { HTTPFetcher, type HTTPFetcherOptions } from './http.js';
export type { TransferLimits } from './limits.js';
export { type S3Credentials, S3Fetcher, type S3FetcherOptions } from './s3.js';
