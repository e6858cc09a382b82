// The parts of GitHub's releases API that the GitHubFetcher reads.

/** A release asset as `GET /repos/{owner}/{repo}/releases/latest` lists it. */
export interface GitHubAsset {
  name: string;
  id: number;
  size: number;
  /** The public page URL; used for logs. */
  browser_download_url: string;
  /** The API URL; downloaded with `Accept: application/octet-stream` (works for private repos). */
  url: string;
}

export interface GitHubRelease {
  tag_name: string;
  assets: GitHubAsset[];
}
