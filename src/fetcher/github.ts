// GitHubFetcher: a new version is a new asset on the repository's latest release. Versions
// are compared by release tag and asset id (a re-uploaded asset gets a new id), not by
// ETag, and downloads go through the API so that private repositories work with a token.
// With `manifest: true`, the chosen asset (`manifest.json` by default) is a release manifest,
// read at each check, and the version it names is another asset of the same release.
import type { KeyObject } from 'node:crypto';
import { codedError, invalidFor } from '../errors.js';
import { debug } from '../log.js';
import { type AssetSelector, matches, pickAsset } from './asset-match.js';
import { bodyStream, readAll } from './body.js';
import { candidate, isCompressed } from './candidate.js';
import { decodeSignature, parseChecksums } from './checksums.js';
import type { Fetched, FetchedManifest, FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
import { parseRelease, rateLimitError } from './github-api.js';
import type { GitHubAsset } from './github-types.js';
import type { Integrity } from './integrity.js';
import { LIMIT_OPTIONS, SMALL_FILE_LIMIT, type TransferLimits, transferLimits } from './limits.js';
import { manifestIntegrity, parseManifest, type ReleaseManifest } from './manifest.js';
import {
  booleanOf,
  duration,
  ed25519PublicKey,
  httpUrl,
  optionalString,
  optionsObject,
  refusedWith,
  requiredString,
} from './options.js';
import { Pacer } from './pacer.js';
import { type Opened, request } from './request.js';

/**
 * Picks a companion asset (checksums, signature) of the chosen one: an exact name, where
 * `{name}` stands for the chosen asset's name ('{name}.sig'), a RegExp, or a predicate.
 */
export type CompanionSelector = string | RegExp | ((asset: GitHubAsset, chosen: GitHubAsset) => boolean);

export interface GitHubFetcherOptions<M extends boolean = boolean> {
  owner: string;
  repo: string;
  /**
   * The latest release's `manifest.json` (or `asset`) is a release manifest, whose `url` names
   * another asset of the release, or an absolute URL. checksumAsset and signatureAsset do not
   * apply. Default false.
   */
  manifest?: M;
  /**
   * Which asset is the program (default: the one named for this platform and arch, see
   * pickDefaultAsset); with `manifest`, which is the manifest (default 'manifest.json').
   */
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
  /** The ed25519 public key (PEM or KeyObject) that signs releases; needs `signatureAsset`, or `manifest` (its signatures). */
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
  'manifest',
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

/** The manifest asset's name when `asset` does not say. */
const MANIFEST_ASSET = 'manifest.json';

export class GitHubFetcher<M extends boolean = false> implements Fetcher {
  readonly owner: string;
  readonly repo: string;
  /** The release carries a release manifest. */
  readonly manifest: M;
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
  /** The last manifest read, by its asset's id (a re-upload gets a new id). */
  #lastManifest: { id: number; manifest: ReleaseManifest } | undefined;

  constructor(options: GitHubFetcherOptions<M>) {
    const o = optionsObject(OWNER, options, KNOWN);
    this.owner = pathSegment(o, 'owner');
    this.repo = pathSegment(o, 'repo');
    this.manifest = booleanOf(OWNER, o, 'manifest') as M;
    if (this.manifest) refusedWith(OWNER, o, 'manifest', ['checksumAsset', 'signatureAsset']);
    this.#asset = (selector(o, 'asset') ?? (this.manifest ? MANIFEST_ASSET : undefined)) as
      | AssetSelector
      | undefined;
    this.interval = duration(OWNER, o, 'interval', 5 * 60_000, 0);
    this.timeout = duration(OWNER, o, 'timeout', 30_000, 1);
    this.#token = optionalString(OWNER, o, 'token');
    this.baseUrl = httpUrl(OWNER, { baseUrl: o.baseUrl ?? 'https://api.github.com' }, 'baseUrl', true)!;
    this.#checksumAsset = selector(o, 'checksumAsset');
    this.#signatureAsset = selector(o, 'signatureAsset');
    this.#publicKey = ed25519PublicKey(OWNER, o, 'publicKey');
    this.limits = transferLimits(OWNER, o);
    if (!this.manifest && (this.#signatureAsset === undefined) !== (this.#publicKey === undefined)) {
      throw invalid(this.#publicKey ? 'signatureAsset' : 'publicKey', 'is needed with the other');
    }
    this.#pacer = new Pacer(this.interval);
  }

  async fetch(signal: AbortSignal, options: FetchOptions = {}): Promise<Fetched<M>> {
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
    if (this.manifest) return (await this.#readManifest(signal, release.assets, chosen, tag)) as Fetched<M>;
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
    const commit = (): void => {
      this.#committed = { tag, id: chosen.id };
    };
    return (await this.#download(signal, chosen, integrity, tag, commit)) as Fetched<M>;
  }

  async #download(
    signal: AbortSignal,
    asset: Pick<GitHubAsset, 'name' | 'url' | 'browser_download_url'>,
    integrity: Integrity,
    version: string,
    commit: (() => void) | undefined,
  ): Promise<FetchedVersion> {
    const download = await this.#get(signal, asset.url, 'application/octet-stream', isCompressed(asset.name));
    return candidate({
      bytes: bodyStream(download, this.timeout, this.limits),
      name: asset.name,
      contentEncoding: download.response.headers.get('content-encoding'),
      source: asset.browser_download_url || asset.url,
      version,
      ...integrity,
      maxBytes: this.limits.maxBytes,
      commit,
    });
  }

  /** The release's manifest (read again only when its asset changed), and the asset it names. */
  async #readManifest(
    signal: AbortSignal,
    assets: GitHubAsset[],
    chosen: GitHubAsset,
    tag: string,
  ): Promise<FetchedManifest> {
    const where = `GitHubFetcher: ${chosen.name} of ${tag}`;
    let manifest = this.#lastManifest?.id === chosen.id ? this.#lastManifest.manifest : undefined;
    if (manifest === undefined) {
      manifest = parseManifest(await this.#small(signal, chosen), where);
      this.#lastManifest = { id: chosen.id, manifest };
    }
    const m = manifest;
    return {
      manifest: m,
      source: chosen.browser_download_url || chosen.url,
      open: async (s) => {
        const integrity = manifestIntegrity(m, this.#publicKey, where);
        return this.#download(s, this.#namedAsset(assets, m.url, where), integrity, m.version, undefined);
      },
    };
  }

  /** An asset of the release by its name, or an absolute http(s) URL (which gets no token). */
  #namedAsset(
    assets: GitHubAsset[],
    url: string,
    where: string,
  ): Pick<GitHubAsset, 'name' | 'url' | 'browser_download_url'> {
    const asset = assets.find((a) => a.name === url);
    if (asset !== undefined) return asset;
    let target: URL | undefined;
    try {
      target = new URL(url);
    } catch {}
    if (target?.protocol !== 'http:' && target?.protocol !== 'https:') {
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_BAD_RESPONSE',
        `${where}: url ${JSON.stringify(url)} is neither an asset of the release nor an absolute http(s) URL`,
      );
    }
    return {
      name: target.pathname.replace(/^.*\//, ''),
      url: target.href,
      browser_download_url: target.href,
    };
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

  #get(signal: AbortSignal, url: string, accept: string, asPublished = false): Promise<Opened> {
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
      asPublished,
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
