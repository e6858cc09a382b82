// The Fetcher interface: where new versions of the program come from. The master calls
// fetch() in its loop (single-flight, at least minFetchInterval apart), stages what comes
// back next to binPath, checks it, swaps it in, and only then calls commit().
import type { Readable } from 'node:stream';

export interface FetchOptions {
  /** Check now, skipping the fetcher's own wait (interval or file watch): trigger-update. */
  immediate?: boolean;
}

/** A candidate version, with what the master needs to verify it. */
export interface FetchedVersion {
  /** The bytes: the program's new entry file, or a .tar.gz/.tgz release archive. */
  stream: Readable;
  /** A name for logs and for telling archives apart ('app-v2.tar.gz'). */
  name?: string;
  /** Where it came from, for logs and status. */
  source?: string;
  /** A version label (a release tag, an ETag) for logs and status. */
  version?: string;
  /** The expected sha256 (hex) from a published checksum; a mismatch means no swap. */
  sha256?: string;
  /** A detached ed25519 signature over the bytes, checked against `publicKey`. */
  signature?: Buffer;
  /** The ed25519 public key (PEM, or a KeyObject's PEM export) that must have signed it. */
  publicKey?: string;
  /**
   * Called by the master once this version is swapped in (or found identical to the running
   * one). Only then may the fetcher remember it (ETag, tag, mtime): a failed download,
   * check or start is tried again next time, unlike Go's fetchers.
   */
  commit?(): void;
}

export interface Fetcher {
  /** Called once in the master before the first fetch. */
  init?(): void | Promise<void>;
  /**
   * One check for a new version. It may first wait (its interval, a file watch) unless
   * `options.immediate`; it must give up promptly, rejecting, when `signal` aborts.
   * Resolves to the candidate (a stream, or a stream with metadata), or null for "no update".
   */
  fetch(signal: AbortSignal, options?: FetchOptions): Promise<Readable | FetchedVersion | null>;
}
