// GitHubFetcher: a new version is a new asset on the repository's latest release. Versions
// are compared by release tag and asset id (a re-uploaded asset gets a new id), not by
// ETag, and downloads go through the API so that private repositories work with a token.
import type { KeyObject } from 'node:crypto';
import { codedError, invalidFor } from '../errors.js';
import { debug } from '../log.js';
import { type AssetSelector, matches, pickAsset } from './asset-match.js';
import { bodyStream, readAll } from './body.js';
import { candidate } from './candidate.js';
import { decodeSignature, parseChecksums } from './checksums.js';
import type { FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
import { parseRelease, rateLimitError } from './github-api.js';
import type { GitHubAsset } from './github-types.js';
import type { Integrity } from './integrity.js';
import { LIMIT_OPTIONS, type TransferLimits, transferLimits } from './limits.js';
import {
  duration,
  ed25519PublicKey,
  httpUrl,
  optionalString,
  optionsObject,
  requiredString,
} from './options.js';
import { Pacer } from './pacer.js';
import { type Opened, request } from './request.js';

/**
 * Picks a companion asset (checksums, signature) of the chosen one: an exact name, where
 * `{name}` stands for the chosen asset's name ('{name}.sig'), a RegExp, or a predicate.
 */
export type CompanionSelector = string | RegExp | ((asset: GitHubAsset, chosen: GitHubAsset) => boolean);

export interface GitHubFetcherOptions {
  owner: string;
  repo: string;
  /** Which asset is the program; default: the one named for this platform and arch (see pickDefaultAsset). */
  asset?: AssetSelector;
  /** ms between checks (the first check, and a trigger-update, do not wait). Default 5 minutes. */
  interval?: number;
  /** A token, for private repositories and a higher rate limit. Sent only to baseUrl's origin. */
  token?: string;
  /** The API root: GitHub Enterprise's `https://host/api/v3`, or a test server. */
  baseUrl?: string;
  /** ms for each request's answer, and the longest a download may send nothing. Default 30 s. */
  timeout?: number;
  /** The release's checksum file, e.g. 'SHA256SUMS' or '{name}.sha256'. */
  checksumAsset?: CompanionSelector;
  /** The detached ed25519 signature of the chosen asset, e.g. '{name}.sig'; needs `publicKey`. */
  signatureAsset?: CompanionSelector;
  /** The ed25519 public key (PEM or KeyObject) that signs releases; needs `signatureAsset`. */
  publicKey?: string | KeyObject;
  /** The most bytes a version may have, downloaded or gunzipped. Default 1 GiB. */
  maxBytes?: number;
  /** A download slower than this over a window of `timeout` fails. Default 1024; 0 turns it off. */
  minBytesPerSecond?: number;
  /** ms a whole download may take. Default: no bound beyond the rate and stall checks. */
  deadline?: number;
}

const OWNER = 'GitHubFetcher';
const invalid = invalidFor(OWNER, 'options.');
const KNOWN = [
  'owner',
  'repo',
  'asset',
  'interval',
  'token',
  'baseUrl',
  'timeout',
  'checksumAsset',
  'signatureAsset',
  'publicKey',
  ...LIMIT_OPTIONS,
] as const;
const JSON_LIMIT = 16 << 20;
const SMALL_FILE_LIMIT = 1 << 20;

export class GitHubFetcher implements Fetcher {
  readonly owner: string;
  readonly repo: string;
  readonly interval: number;
  readonly timeout: number;
  readonly baseUrl: URL;
  readonly limits: TransferLimits;
  readonly #asset: AssetSelector | undefined;
  readonly #token: string | undefined;
  readonly #checksumAsset: CompanionSelector | undefined;
  readonly #signatureAsset: CompanionSelector | undefined;
  readonly #publicKey: string | undefined;
  readonly #pacer: Pacer;
  #committed: { tag: string; id: number } | undefined;

  constructor(options: GitHubFetcherOptions) {
    const o = optionsObject(OWNER, options, KNOWN);
    this.owner = pathSegment(o, 'owner');
    this.repo = pathSegment(o, 'repo');
    this.#asset = selector(o, 'asset') as AssetSelector | undefined;
    this.interval = duration(OWNER, o, 'interval', 5 * 60_000, 0);
    this.timeout = duration(OWNER, o, 'timeout', 30_000, 1);
    this.#token = optionalString(OWNER, o, 'token');
    this.baseUrl = httpUrl(OWNER, { baseUrl: o.baseUrl ?? 'https://api.github.com' }, 'baseUrl', true)!;
    this.#checksumAsset = selector(o, 'checksumAsset');
    this.#signatureAsset = selector(o, 'signatureAsset');
    this.#publicKey = ed25519PublicKey(OWNER, o, 'publicKey');
    this.limits = transferLimits(OWNER, o);
    if ((this.#signatureAsset === undefined) !== (this.#publicKey === undefined)) {
      throw invalid(this.#publicKey ? 'signatureAsset' : 'publicKey', 'is needed with the other');
    }
    this.#pacer = new Pacer(this.interval);
  }

  async fetch(signal: AbortSignal, options: FetchOptions = {}): Promise<FetchedVersion | null> {
    await this.#pacer.wait(signal, options.immediate === true);
    const base = this.baseUrl.href.replace(/\/+$/, '');
    const latest = `${base}/repos/${encodeURIComponent(this.owner)}/${encodeURIComponent(this.repo)}/releases/latest`;
    const res = await this.#get(signal, latest, 'application/vnd.github+json');
    const release = parseRelease(
      await readAll(bodyStream(res, this.timeout, this.limits), JSON_LIMIT, res.where),
      res.where,
    );
    const tag = release.tag_name;
    const chosen = pickAsset(release.assets, this.#asset);
    if (chosen === undefined) {
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_BAD_RESPONSE',
        `GitHubFetcher: release ${tag} of ${this.owner}/${this.repo} has no asset matching ${describe(this.#asset)} (assets: ${
          release.assets.map((a) => a.name).join(', ') || 'none'
        })`,
      );
    }
    const last = this.#committed;
    if (last?.tag === tag && last.id === chosen.id) {
      debug('GitHubFetcher: %s/%s is still at %s (%s)', this.owner, this.repo, tag, chosen.name);
      return null;
    }
    if (chosen.size > this.limits.maxBytes) {
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_TOO_LARGE',
        `GitHubFetcher: ${chosen.name} of ${tag} is ${chosen.size} bytes, over maxBytes (${this.limits.maxBytes})`,
      );
    }
    const integrity = await this.#integrity(signal, release.assets, chosen);
    debug(
      'GitHubFetcher: %s/%s %s: downloading %s (%d bytes)',
      this.owner,
      this.repo,
      tag,
      chosen.name,
      chosen.size,
    );
    const download = await this.#get(signal, chosen.url, 'application/octet-stream');
    return candidate({
      bytes: bodyStream(download, this.timeout, this.limits),
      name: chosen.name,
      contentEncoding: download.response.headers.get('content-encoding'),
      source: chosen.browser_download_url || chosen.url,
      version: tag,
      ...integrity,
      maxBytes: this.limits.maxBytes,
      commit: () => {
        this.#committed = { tag, id: chosen.id };
      },
    });
  }

  async #integrity(signal: AbortSignal, assets: GitHubAsset[], chosen: GitHubAsset): Promise<Integrity> {
    const out: Integrity = {};
    if (this.#checksumAsset !== undefined) {
      const sums = companion(assets, chosen, this.#checksumAsset, 'checksumAsset');
      const text = await this.#small(signal, sums);
      out.sha256 = parseChecksums(text.toString('utf8'), chosen.name, `GitHubFetcher: ${sums.name}`);
    }
    if (this.#signatureAsset !== undefined) {
      const sig = companion(assets, chosen, this.#signatureAsset, 'signatureAsset');
      out.signature = decodeSignature(await this.#small(signal, sig), `GitHubFetcher: ${sig.name}`);
      out.publicKey = this.#publicKey!;
    }
    return out;
  }

  async #small(signal: AbortSignal, asset: GitHubAsset): Promise<Buffer> {
    const res = await this.#get(signal, asset.url, 'application/octet-stream');
    return readAll(bodyStream(res, this.timeout, this.limits), SMALL_FILE_LIMIT, res.where);
  }

  #get(signal: AbortSignal, url: string, accept: string): Promise<Opened> {
    const target = new URL(url);
    const headers: Record<string, string> = {
      accept,
      'user-agent': 'overseer',
      'x-github-api-version': '2022-11-28',
    };
    // The token is for the API; an asset URL elsewhere (odd JSON, a proxy) does not get it.
    if (this.#token !== undefined && target.origin === this.baseUrl.origin) {
      headers.authorization = `Bearer ${this.#token}`;
    }
    return request(target, {
      owner: OWNER,
      headers,
      signal,
      timeout: this.timeout,
      classify: rateLimitError,
    });
  }
}

function companion(
  assets: GitHubAsset[],
  chosen: GitHubAsset,
  sel: CompanionSelector,
  option: string,
): GitHubAsset {
  const found = assets.find((a) => {
    if (a.id === chosen.id) return false;
    if (typeof sel === 'string') return a.name === sel.replaceAll('{name}', chosen.name);
    if (typeof sel === 'function') return sel(a, chosen) === true;
    return matches(sel, a);
  });
  if (found === undefined) {
    throw codedError(
      Error,
      'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      `GitHubFetcher: the release has no ${option} matching ${describe(sel)} for ${chosen.name}`,
    );
  }
  return found;
}

function describe(sel: unknown): string {
  if (sel === undefined) return `${process.platform}/${process.arch}`;
  if (typeof sel === 'string') return JSON.stringify(sel);
  if (sel instanceof RegExp) return String(sel);
  return 'the given function';
}

function pathSegment(o: Record<string, unknown>, key: string): string {
  const v = requiredString(OWNER, o, key);
  if (v.includes('/')) throw invalid(key, `must be a single name without '/', got ${JSON.stringify(v)}`);
  return v;
}

function selector(o: Record<string, unknown>, key: string): CompanionSelector | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if ((typeof v === 'string' && v !== '') || v instanceof RegExp || typeof v === 'function') {
    return v as CompanionSelector;
  }
  throw invalid(key, 'must be an asset name, a RegExp or a function');
}
