// Reading GitHub's answers: the release JSON checked for the fields we use, and its rate
// limit turned into an error that says when to try again.
import { codedError } from '../errors.js';
import type { GitHubAsset, GitHubRelease } from './github-types.js';

/** A 403/429 that is GitHub's primary or secondary rate limit, or undefined for any other answer. */
export function rateLimitError(response: Response, where: string): Error | undefined {
  const { status, headers } = response;
  if (status !== 403 && status !== 429) return undefined;
  const remaining = headers.get('x-ratelimit-remaining');
  const retryAfter = headers.get('retry-after');
  if (status === 403 && remaining !== '0' && retryAfter === null) return undefined;
  let resetAt: Date | undefined;
  const reset = Number(headers.get('x-ratelimit-reset') ?? Number.NaN);
  if (retryAfter !== null && Number.isFinite(Number(retryAfter))) {
    resetAt = new Date(Date.now() + Number(retryAfter) * 1000);
  } else if (Number.isFinite(reset)) {
    resetAt = new Date(reset * 1000);
  }
  const when = resetAt ? ` until ${resetAt.toISOString()}` : '';
  return Object.assign(
    codedError(
      Error,
      'ERR_OVERSEER_FETCH_RATE_LIMITED',
      `GitHubFetcher: ${where} is rate limited${when} (status ${status}); a token raises the limit`,
    ),
    { status, resetAt },
  );
}

export function parseRelease(body: Buffer, where: string): GitHubRelease {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw codedError(
      Error,
      'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      `GitHubFetcher: ${where} did not answer JSON`,
      err,
    );
  }
  const r = json as Partial<GitHubRelease> | null;
  if (typeof r?.tag_name !== 'string' || !Array.isArray(r.assets)) {
    throw codedError(
      Error,
      'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      `GitHubFetcher: ${where} did not answer a release (tag_name, assets)`,
    );
  }
  const assets = r.assets.filter(isAsset);
  return { tag_name: r.tag_name, assets };
}

function isAsset(a: unknown): a is GitHubAsset {
  const x = a as Partial<GitHubAsset> | null;
  return typeof x?.name === 'string' && typeof x.id === 'number' && typeof x.url === 'string';
}
