// HTTPFetcher: a new version is new bytes at a URL. Each check is a HEAD compared on its
// validators (ETag, Last-Modified, Content-Length); a server that sends none of them gets
// a GET whose body the master stages and compares by its sha256 with the running version
// (the Go library never saw an update there). Bodies always stream: none is held in memory.
// With `manifest: true`, the URL is a release manifest instead (manifest.ts): each check reads
// it, and the version it names is downloaded (relative to it) only when the master takes it.
import type { KeyObject } from 'node:crypto';
import { codedError, invalidFor } from '../errors.js';
import { debug } from '../log.js';
import { bodyStream, readAll } from './body.js';
import { candidate, isCompressed } from './candidate.js';
import { decodeSignature, parseChecksums } from './checksums.js';
import type { Fetched, FetchedManifest, FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
import type { Integrity } from './integrity.js';
import { LIMIT_OPTIONS, SMALL_FILE_LIMIT, type TransferLimits, transferLimits } from './limits.js';
import { manifestIntegrity, parseManifest } from './manifest.js';
import {
  booleanOf,
  duration,
  ed25519PublicKey,
  headerRecord,
  httpUrl,
  optionsObject,
  refusedWith,
  sha256Hex,
} from './options.js';
import { Pacer } from './pacer.js';
import { request, shown } from './request.js';

export interface HTTPFetcherOptions<M extends boolean = boolean> {
  /** The new version: the entry file, a `.gz` of it (gunzipped here), or a .tar.gz/.tgz release. */
  url: string | URL;
  /**
   * `url` is a release manifest: the version, its sha256 and signature, and its rollout come
   * from it (checkHeaders, sha256, sha256Url and signatureUrl do not apply). Default false.
   */
  manifest?: M;
  /** ms between checks (the first check, and a trigger-update, do not wait). Default 5 minutes. */
  interval?: number;
  /** Response headers whose change means a new version. Default etag, last-modified, content-length. */
  checkHeaders?: string[];
  /** Extra request headers (an Authorization, an API key), sent only to the URLs' own origins: a redirect elsewhere drops them all. */
  headers?: Record<string, string>;
  /** ms for each request's answer, and the longest a body may send nothing. Default 30 s. */
  timeout?: number;
  /** The expected sha256 as hex; fixed, for pinning one build. */
  sha256?: string;
  /** A `<file>.sha256` or `SHA256SUMS` file to read the expected sha256 from. */
  sha256Url?: string | URL;
  /** A detached ed25519 signature (64 raw bytes, or base64) of the file; needs `publicKey`. */
  signatureUrl?: string | URL;
  /** The ed25519 public key (PEM or KeyObject) that signs releases; needs `signatureUrl`, or `manifest` (its signatures). */
  publicKey?: string | KeyObject;
  /** The most bytes a version may have, downloaded or gunzipped. Default 1 GiB. */
  maxBytes?: number;
  /** A body slower than this over a window of `timeout` fails. Default 1024; 0 turns it off. */
  minBytesPerSecond?: number;
  /** ms a whole download may take. Default: no bound beyond the rate and stall checks. */
  deadline?: number;
}

const OWNER = 'HTTPFetcher';
const KNOWN = [
  'url',
  'manifest',
  'interval',
  'checkHeaders',
  'headers',
  'timeout',
  'sha256',
  'sha256Url',
  'signatureUrl',
  'publicKey',
  ...LIMIT_OPTIONS,
] as const;
/** HEAD refused by the server: compare by content instead. */
const NO_HEAD = [405, 501] as const;

/** Headers for one request, from its method and URL (S3Fetcher's SigV4 signature). */
export type RequestSigner = (method: 'GET' | 'HEAD', url: URL) => Record<string, string>;

/**
 * How another fetcher builds on this one: its name in messages, how it names an option it
 * hands on under another name (S3Fetcher's sha256Key is this sha256Url), and how it signs
 * requests.
 */
export interface HTTPFetcherInternals {
  owner: string;
  named: (option: string) => string;
  sign: RequestSigner;
}

export class HTTPFetcher<M extends boolean = false> implements Fetcher {
  readonly url: URL;
  /** The URL is a release manifest. */
  readonly manifest: M;
  readonly interval: number;
  readonly checkHeaders: readonly string[];
  readonly timeout: number;
  readonly limits: TransferLimits;
  readonly #headers: Record<string, string>;
  readonly #sha256: string | undefined;
  readonly #sha256Url: URL | undefined;
  readonly #signatureUrl: URL | undefined;
  readonly #publicKey: string | undefined;
  readonly #pacer: Pacer;
  /** The check headers' values of the committed version, in checkHeaders order; null for one not sent. */
  #committed: (string | null)[] | undefined;
  readonly #owner: string;
  readonly #sign: RequestSigner | undefined;

  constructor(options: HTTPFetcherOptions<M>, internals?: HTTPFetcherInternals) {
    // Checked under the name the user wrote: S3Fetcher's options arrive here, most as they were.
    const owner = internals?.owner ?? OWNER;
    this.#owner = owner;
    const invalid = invalidFor(owner, internals?.named ?? 'options.');
    this.#sign = internals?.sign;
    const o = optionsObject(owner, options, KNOWN);
    this.url = httpUrl(owner, o, 'url', true)!;
    this.manifest = booleanOf(owner, o, 'manifest') as M;
    // The manifest names the version's bytes and how to check them.
    if (this.manifest)
      refusedWith(owner, o, 'manifest', ['checkHeaders', 'sha256', 'sha256Url', 'signatureUrl']);
    this.interval = duration(owner, o, 'interval', 5 * 60_000, 0);
    this.timeout = duration(owner, o, 'timeout', 30_000, 1);
    this.checkHeaders = checkHeaders(o.checkHeaders);
    this.limits = transferLimits(owner, o);
    this.#headers = headerRecord(owner, o, 'headers');
    this.#sha256 = sha256Hex(owner, o, 'sha256');
    this.#sha256Url = httpUrl(owner, o, 'sha256Url', false);
    if (this.#sha256 !== undefined && this.#sha256Url !== undefined) {
      throw invalid('sha256', `and ${invalid.named('sha256Url')} cannot both be set`);
    }
    this.#signatureUrl = httpUrl(owner, o, 'signatureUrl', false);
    this.#publicKey = ed25519PublicKey(owner, o, 'publicKey');
    if (!this.manifest && (this.#signatureUrl === undefined) !== (this.#publicKey === undefined)) {
      throw invalid(this.#publicKey ? 'signatureUrl' : 'publicKey', 'is needed with the other');
    }
    this.#pacer = new Pacer(this.interval);
  }

  async fetch(signal: AbortSignal, options: FetchOptions = {}): Promise<Fetched<M>> {
    await this.#pacer.wait(signal, options.immediate === true);
    if (this.manifest) return (await this.#readManifest(signal)) as Fetched<M>;
    const head = await request(this.url, this.#opts(signal, 'HEAD', this.url, NO_HEAD));
    head.close();
    const validators = head.response.ok ? this.checkHeaders.map((h) => head.response.headers.get(h)) : [];
    const version = validators.some((v) => v !== null)
      ? await this.#byValidators(signal, validators)
      : await this.#byContent(signal);
    return version as Fetched<M>;
  }

  async #byValidators(signal: AbortSignal, validators: (string | null)[]): Promise<FetchedVersion | null> {
    const last = this.#committed;
    if (last && last.length === validators.length && last.every((v, i) => v === validators[i])) {
      debug('%s: %s unchanged (%s)', this.#owner, shown(this.url), validators.join(', '));
      return null;
    }
    const integrity = await this.#integrity(signal);
    debug('%s: %s changed (%s): downloading', this.#owner, shown(this.url), validators.join(', '));
    return this.#download(signal, this.url, integrity, (h) => ({
      version: h.get('etag') ?? h.get('last-modified') ?? validators.filter((v) => v !== null).join(', '),
      commit: () => {
        this.#committed = validators;
      },
    }));
  }

  /**
   * No validators: the body itself is the version. It streams to the master, which stages it
   * and compares its sha256 with the running version's (identical: no update), so nothing
   * here is worth remembering and the body is never held in memory.
   */
  async #byContent(signal: AbortSignal): Promise<FetchedVersion> {
    const integrity = await this.#integrity(signal);
    debug('%s: %s sends no validators; the master compares its content', this.#owner, shown(this.url));
    return this.#download(signal, this.url, integrity, () => ({ version: undefined, commit: undefined }));
  }

  /**
   * Reads the release manifest. The version it names is downloaded only when the master takes
   * it; this fetcher's headers (and S3's signature) go with that request only to the manifest's
   * own origin.
   */
  async #readManifest(signal: AbortSignal): Promise<FetchedManifest> {
    const where = shown(this.url);
    const manifest = parseManifest(await this.#small(signal, this.url), where);
    return {
      manifest,
      source: where,
      open: async (s) => {
        const integrity = manifestIntegrity(manifest, this.#publicKey, where);
        const url = new URL(manifest.url, this.url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw codedError(
            Error,
            'ERR_OVERSEER_FETCH_BAD_RESPONSE',
            `${where}: release manifest: url must be an http(s) URL or a path, got ${url.protocol}`,
          );
        }
        debug('%s: downloading %s %s', this.#owner, manifest.version, shown(url));
        return this.#download(s, url, integrity, () => ({ version: manifest.version, commit: undefined }));
      },
    };
  }

  /** One version's bytes, streamed: `label` names it from the answer's headers. */
  async #download(
    signal: AbortSignal,
    url: URL,
    integrity: Integrity,
    label: (headers: Headers) => { version: string | undefined; commit: (() => void) | undefined },
  ): Promise<FetchedVersion> {
    const name = publishedName(url) || url.hostname;
    const get = await request(url, { ...this.#opts(signal, 'GET', url), asPublished: isCompressed(name) });
    return candidate({
      bytes: bodyStream(get, this.timeout, this.limits),
      name,
      contentEncoding: get.response.headers.get('content-encoding'),
      source: get.where,
      ...label(get.response.headers),
      ...integrity,
      maxBytes: this.limits.maxBytes,
    });
  }

  /** The published checksum and signature, fetched before the body so a failure wastes nothing. */
  async #integrity(signal: AbortSignal): Promise<Integrity> {
    const out: Integrity = {};
    if (this.#sha256 !== undefined) out.sha256 = this.#sha256;
    if (this.#sha256Url !== undefined) {
      const text = await this.#small(signal, this.#sha256Url);
      out.sha256 = parseChecksums(text.toString('utf8'), publishedName(this.url), shown(this.#sha256Url));
    }
    if (this.#signatureUrl !== undefined) {
      out.signature = decodeSignature(
        await this.#small(signal, this.#signatureUrl),
        shown(this.#signatureUrl),
      );
      out.publicKey = this.#publicKey!;
    }
    return out;
  }

  async #small(signal: AbortSignal, url: URL): Promise<Buffer> {
    const res = await request(url, this.#opts(signal, 'GET', url));
    return readAll(bodyStream(res, this.timeout, this.limits), SMALL_FILE_LIMIT, res.where);
  }

  #opts(signal: AbortSignal, method: 'GET' | 'HEAD', url: URL, allow?: readonly number[]) {
    // A URL the manifest named on another origin (a CDN) gets none of this fetcher's credentials.
    const own = !this.manifest || url.origin === this.url.origin;
    const headers = !own ? {} : this.#sign ? { ...this.#headers, ...this.#sign(method, url) } : this.#headers;
    return { owner: this.#owner, method, headers, signal, timeout: this.timeout, allow };
  }
}

/** The file name as published, which a SHA256SUMS line names. */
function publishedName(url: URL): string {
  const last = url.pathname.replace(/^.*\//, '');
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

function checkHeaders(v: unknown): readonly string[] {
  if (v === undefined) return ['etag', 'last-modified', 'content-length'];
  if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || h === '')) {
    throw invalidFor(OWNER, 'options.')('checkHeaders', 'must be an array of header names');
  }
  return v.map((h: string) => h.toLowerCase());
}
