// One HTTP request with Node's fetch, a timeout on the answer, and redirects followed by
// hand so that credentials never reach another origin: Node 20's bundled undici strips
// Authorization on a cross-origin redirect, but only recent releases of it do, and user
// headers (an API key, a signature) are ours to protect either way.
import { codedError, errorMessage } from '../errors.js';

export interface RequestOptions {
  /** The fetcher's name, for messages. */
  owner: string;
  method?: 'GET' | 'HEAD';
  /** Lower-case header names. */
  headers?: Record<string, string>;
  /** The caller's signal: aborting it aborts the request, and the body while it is read. */
  signal: AbortSignal;
  /** ms until the final answer's status and headers, across all redirects. */
  timeout: number;
  /** Non-2xx statuses handed back instead of thrown (a HEAD that is not allowed). */
  allow?: readonly number[];
  /**
   * Asks for the bytes as published (accept-encoding: identity): a compressed file's checksum
   * and signature are of its compressed bytes, which fetch would decode on the way.
   */
  asPublished?: boolean;
  /** Turns a non-2xx answer into a more specific error (GitHub's rate limit). */
  classify?: (response: Response, where: string) => Error | undefined;
}

/** An answer whose body may still be read; close() releases it. */
export interface Opened {
  response: Response;
  url: URL;
  /** The URL for messages: no credentials, no query string (signed URLs carry secrets there). */
  where: string;
  owner: string;
  method: string;
  /** The caller's signal. */
  signal: AbortSignal;
  /** Aborts the request (if still running) and unhooks it from the caller's signal. */
  close(reason?: unknown): void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;
/** The headers a redirect to another origin keeps: what overseer asks for, no one's secret. */
const CARRIED = new Set(['accept', 'accept-encoding', 'user-agent', 'x-github-api-version']);

export function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

export async function request(target: URL | string, opts: RequestOptions): Promise<Opened> {
  const method = opts.method ?? 'GET';
  const { owner, signal, timeout } = opts;
  signal.throwIfAborted();
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const close = (reason?: unknown): void => {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    if (reason !== undefined) controller.abort(reason);
  };

  let url = new URL(target);
  const headers = { ...opts.headers };
  if (opts.asPublished) headers['accept-encoding'] = 'identity';
  try {
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers, signal: controller.signal, redirect: 'manual' });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (timedOut) {
          throw codedError(
            Error,
            'ERR_OVERSEER_FETCH_TIMEOUT',
            `${owner}: ${method} ${shown(url)} got no answer within ${timeout} ms`,
          );
        }
        const cause = (err as { cause?: unknown }).cause ?? err;
        throw codedError(
          Error,
          'ERR_OVERSEER_FETCH_FAILED',
          `${owner}: ${method} ${shown(url)} failed: ${errorMessage(cause)}`,
          err,
        );
      }
      const location = response.headers.get('location');
      if (REDIRECTS.has(response.status) && location !== null) {
        await response.body?.cancel().catch(() => {});
        if (hop >= MAX_REDIRECTS) {
          throw Object.assign(
            codedError(
              Error,
              'ERR_OVERSEER_FETCH_HTTP',
              `${owner}: ${method} ${shown(url)}: more than ${MAX_REDIRECTS} redirects`,
            ),
            { status: response.status },
          );
        }
        const next = parseLocation(location, url);
        if (next?.protocol !== 'http:' && next?.protocol !== 'https:') {
          throw Object.assign(
            codedError(
              Error,
              'ERR_OVERSEER_FETCH_HTTP',
              `${owner}: ${shown(url)} redirects to an unusable location ${JSON.stringify(location.slice(0, 200))}`,
            ),
            {
              status: response.status,
            },
          );
        }
        // Credentials are for the origin they were configured for, and any header a user or a
        // signer set may be one (an API key, S3's session token): another origin gets only ours.
        if (next.origin !== url.origin) {
          for (const name of Object.keys(headers)) if (!CARRIED.has(name)) delete headers[name];
        }
        url = next;
        continue;
      }
      clearTimeout(timer);
      if (!response.ok && !opts.allow?.includes(response.status)) {
        await response.body?.cancel().catch(() => {});
        throw (
          opts.classify?.(response, shown(url)) ??
          Object.assign(
            codedError(
              Error,
              'ERR_OVERSEER_FETCH_HTTP',
              `${owner}: ${method} ${shown(url)} answered ${response.status} ${response.statusText}`.trimEnd(),
            ),
            { status: response.status },
          )
        );
      }
      return { response, url, where: shown(url), owner, method, signal, close };
    }
  } catch (err) {
    close();
    throw err;
  }
}

function parseLocation(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}
