// S3Fetcher: a new version is a new object in an S3 bucket (or any S3-compatible store),
// read with AWS Signature Version 4 through the aws4 package. The object's ETag is its
// validator: a HEAD each interval, a GET when it changed. Credentials come from the options
// or the usual environment variables; without any, requests go unsigned (a public object).
// With `manifest: true` the object is a release manifest, and the version it names is an
// object beside it (a relative key) in the same bucket, read with the same signature.

import type { KeyObject } from 'node:crypto';
import aws4 from 'aws4';
import { invalidFor } from '../errors.js';
import type { Fetched, Fetcher, FetchOptions } from './fetcher.js';
import { HTTPFetcher, type HTTPFetcherOptions } from './http.js';
import { LIMIT_OPTIONS } from './limits.js';
import { booleanOf, httpUrl, optionalString, optionsObject, refusedWith, requiredString } from './options.js';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials (STS, an instance role). */
  sessionToken?: string;
}

export interface S3FetcherOptions<M extends boolean = boolean> {
  bucket: string;
  /** The object's key: the entry file, a `.gz` of it, or a .tar.gz/.tgz release. */
  key: string;
  /** `key` is a release manifest (see HTTPFetcher's `manifest`). Default false. */
  manifest?: M;
  /** Default $AWS_REGION, $AWS_DEFAULT_REGION, then 'us-east-1'. */
  region?: string;
  /**
   * An S3-compatible endpoint (MinIO, R2, a test server), addressed path-style
   * (`<endpoint>/<bucket>/<key>`). Default: AWS, virtual-hosted (`https://<bucket>.s3.<region>.amazonaws.com`).
   */
  endpoint?: string | URL;
  /** Default $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY and $AWS_SESSION_TOKEN; none: unsigned. */
  credentials?: S3Credentials;
  /** ms between checks. Default 5 minutes. */
  interval?: number;
  /** ms for each request's answer, and the longest a body may send nothing. Default 30 s. */
  timeout?: number;
  /** The expected sha256 as hex; fixed, for pinning one build. */
  sha256?: string;
  /** The key of a `<file>.sha256` or `SHA256SUMS` object in the same bucket. */
  sha256Key?: string;
  /** The key of a detached ed25519 signature of the object; needs `publicKey`. */
  signatureKey?: string;
  /** The ed25519 public key (PEM or KeyObject) that signs releases; needs `signatureKey`, or `manifest` (its signatures). */
  publicKey?: string | KeyObject;
  maxBytes?: number;
  minBytesPerSecond?: number;
  deadline?: number;
}

const OWNER = 'S3Fetcher';
const invalid = invalidFor(OWNER, 'options.');
/** The options S3Fetcher hands to its HTTPFetcher under another name, by that name. */
const HANDED_ON_AS: Record<string, string> = { sha256Url: 'sha256Key', signatureUrl: 'signatureKey' };
const KNOWN = [
  'bucket',
  'key',
  'manifest',
  'region',
  'endpoint',
  'credentials',
  'interval',
  'timeout',
  'sha256',
  'sha256Key',
  'signatureKey',
  'publicKey',
  ...LIMIT_OPTIONS,
] as const;

/** A key as a URL path: each segment percent-encoded, the slashes kept. */
function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

function credentialsFrom(v: unknown, env: NodeJS.ProcessEnv): S3Credentials | undefined {
  if (v !== undefined) {
    const c = v as Partial<S3Credentials> | null;
    if (
      typeof c !== 'object' ||
      c === null ||
      typeof c.accessKeyId !== 'string' ||
      typeof c.secretAccessKey !== 'string'
    ) {
      throw invalid('credentials', 'must be { accessKeyId, secretAccessKey, sessionToken? }');
    }
    if (c.sessionToken !== undefined && typeof c.sessionToken !== 'string') {
      throw invalid('credentials', 'sessionToken must be a string');
    }
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    };
  }
  const id = env.AWS_ACCESS_KEY_ID;
  const secret = env.AWS_SECRET_ACCESS_KEY;
  if (!id || !secret) return undefined;
  return {
    accessKeyId: id,
    secretAccessKey: secret,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

export class S3Fetcher<M extends boolean = false> implements Fetcher {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
  /** The object's URL. */
  readonly url: URL;
  readonly #http: HTTPFetcher<M>;

  constructor(options: S3FetcherOptions<M>, env: NodeJS.ProcessEnv = process.env) {
    const o = optionsObject(OWNER, options, KNOWN);
    this.bucket = requiredString(OWNER, o, 'bucket');
    this.key = requiredString(OWNER, o, 'key').replace(/^\/+/, '');
    this.region =
      optionalString(OWNER, o, 'region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const endpoint = httpUrl(OWNER, o, 'endpoint', false);
    const credentials = credentialsFrom(o.credentials, env);
    const objectUrl = (key: string): URL =>
      endpoint
        ? new URL(`${endpoint.href.replace(/\/+$/, '')}/${encodeURIComponent(this.bucket)}/${keyPath(key)}`)
        : new URL(`https://${this.bucket}.s3.${this.region}.amazonaws.com/${keyPath(key)}`);
    this.url = objectUrl(this.key);
    const manifest = booleanOf(OWNER, o, 'manifest') as M;
    if (manifest) refusedWith(OWNER, o, 'manifest', ['sha256', 'sha256Key', 'signatureKey']);
    const sha256Key = optionalString(OWNER, o, 'sha256Key');
    const signatureKey = optionalString(OWNER, o, 'signatureKey');
    const http: HTTPFetcherOptions<M> = {
      url: this.url,
      ...(manifest ? { manifest } : { checkHeaders: ['etag'] }),
      ...(o.interval === undefined ? {} : { interval: o.interval as number }),
      ...(o.timeout === undefined ? {} : { timeout: o.timeout as number }),
      ...(o.sha256 === undefined ? {} : { sha256: o.sha256 as string }),
      ...(sha256Key === undefined ? {} : { sha256Url: objectUrl(sha256Key) }),
      ...(signatureKey === undefined ? {} : { signatureUrl: objectUrl(signatureKey) }),
      ...(o.publicKey === undefined ? {} : { publicKey: o.publicKey as string | KeyObject }),
    };
    for (const k of LIMIT_OPTIONS)
      if (o[k] !== undefined) (http as unknown as Record<string, unknown>)[k] = o[k];
    const region = this.region;
    this.#http = new HTTPFetcher(http, {
      owner: OWNER,
      named: (option) => invalid.named(HANDED_ON_AS[option] ?? option),
      sign: (method, url) => {
        if (!credentials) return {};
        const signed = aws4.sign(
          {
            host: url.host,
            path: `${url.pathname}${url.search}`,
            method,
            service: 's3',
            region,
            headers: {},
            doNotEncodePath: true,
          },
          credentials,
        );
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(signed.headers ?? {})) {
          // Host is the URL's own; fetch sets it, and may not be told.
          if (k.toLowerCase() !== 'host' && v !== undefined) out[k.toLowerCase()] = String(v);
        }
        return out;
      },
    });
  }

  get interval(): number {
    return this.#http.interval;
  }

  fetch(signal: AbortSignal, options?: FetchOptions): Promise<Fetched<M>> {
    return this.#http.fetch(signal, options);
  }
}
