// An independent check of AWS Signature Version 4, written from AWS's specification (not
// from aws4): the canonical request, the string to sign, the derived key and the HMAC. The
// S3 test server uses it to refuse anything not signed right; the tests check it against
// AWS's published vectors first.
import { createHash, createHmac } from 'node:crypto';

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex');

/** RFC 3986 encoding, as SigV4 wants it (every byte but the unreserved ones). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface SignedRequest {
  method: string;
  /** The path as sent (already encoded, as S3 wants it: not encoded twice). */
  path: string;
  query: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The payload's sha256 in hex ('UNSIGNED-PAYLOAD' allowed, as S3 does). */
  payloadHash: string;
}

export interface Scope {
  date: string; // YYYYMMDD
  region: string;
  service: string;
}

/** The signature for `r` over `signedHeaders`, with the secret key. */
export function signature(
  secret: string,
  amzDate: string,
  scope: Scope,
  r: SignedRequest,
  signedHeaders: string[],
): string {
  const query = r.query
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const [k, v = ''] = kv.split('=');
      return [uriEncode(decodeURIComponent(k!)), uriEncode(decodeURIComponent(v))] as const;
    })
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders
    .map((h) => `${h}:${(r.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [
    r.method,
    r.path || '/',
    query,
    canonicalHeaders,
    signedHeaders.join(';'),
    r.payloadHash,
  ].join('\n');
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${secret}`, scope.date), scope.region), scope.service),
    'aws4_request',
  );
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/**
 * Whether an Authorization header is a valid SigV4 signature of `r` by `accessKeyId` with
 * `secret`: the credential, the scope's date matching X-Amz-Date, and the signature itself.
 */
export function verify(
  authorization: string | undefined,
  r: SignedRequest,
  accessKeyId: string,
  secret: string,
): string | undefined {
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization ?? '',
    );
  if (!m) return 'no SigV4 Authorization header';
  const [, id, date, region, service, signed, sig] = m;
  if (id !== accessKeyId) return `unknown access key ${id}`;
  const amzDate = r.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(date!)) return 'the scope date is not X-Amz-Date';
  const headers = signed!.split(';');
  if (!headers.includes('host')) return 'host is not signed';
  const expected = signature(
    secret,
    amzDate,
    { date: date!, region: region!, service: service! },
    r,
    headers,
  );
  return expected === sig ? undefined : 'the signature does not match';
}
