// overseer/fetcher: where new versions come from. Their errors' codes are overseer's
// (`import { codes } from 'overseer'`): ERR_OVERSEER_FETCH_*.
export type { AssetSelector } from './asset-match.js';
export { pickDefaultAsset } from './asset-match.js';
export type { Fetched, FetchedManifest, FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
export { FileFetcher, type FileFetcherOptions } from './file.js';
export { type FetchFunction, fetcherFunc } from './func.js';
export { type CompanionSelector, GitHubFetcher, type GitHubFetcherOptions } from './github.js';
export type { GitHubAsset, GitHubRelease } from './github-types.js';
export { HTTPFetcher, type HTTPFetcherOptions } from './http.js';
export type { TransferLimits } from './limits.js';
export { parseManifest, type ReleaseManifest, type Rollout, type RolloutStep } from './manifest.js';
export { type S3Credentials, S3Fetcher, type S3FetcherOptions } from './s3.js';
