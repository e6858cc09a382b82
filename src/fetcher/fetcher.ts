// The Fetcher interface: where new versions of the program come from. The master calls
// fetch() in its loop (single-flight, at least minFetchInterval apart), stages what comes
// back next to binPath, checks it, swaps it in, and only then calls commit().
import type { Readable } from 'node:stream';
import type { ReleaseManifest } from './manifest.js';

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
   * The most bytes a release archive may hold once extracted: the fetcher's `maxBytes`
   * (overseer's fetchers set it). Default 1 GiB.
   */
  maxBytes?: number;
  /**
   * Called by the master once this version is swapped in (or found identical to the running
   * one). Only then may the fetcher remember it (ETag, tag, mtime): a failed download,
   * check or start is tried again next time, unlike Go's fetchers.
   */
  commit?(): void;
}

/**
 * What a fetcher in manifest mode answers at each check: the release manifest (manifest.ts),
 * which the master decides from, and a way to download the version it names.
 */
export interface FetchedManifest {
  manifest: ReleaseManifest;
  /** Where the manifest came from, for logs. */
  source: string;
  /** The version the manifest names, carrying its sha256 (and signature) for the master to check. */
  open(signal: AbortSignal): Promise<FetchedVersion>;
}

/**
 * What a fetcher's check gives: a version, or, for one made with `manifest: true`, the release
 * manifest; null for "no update". `M` is the type of that option, so a plain fetcher's checks
 * are typed as versions.
 */
export type Fetched<M extends boolean> = (M extends true ? FetchedManifest : FetchedVersion) | null;

export function isFetchedManifest(v: unknown): v is FetchedManifest {
  const m = v as Partial<FetchedManifest> | null;
  return (
    typeof m === 'object' && m !== null && typeof m.manifest === 'object' && typeof m.open === 'function'
  );
}

export interface Fetcher {
  /** Called once in the master before the first fetch. */
  init?(): void | Promise<void>;
  /**
   * One check for a new version. It may first wait (its interval, a file watch) unless
   * `options.immediate`; it must give up promptly, rejecting, when `signal` aborts.
   * Resolves to the candidate (a stream, or a stream with metadata), or null for "no update";
   * in manifest mode, to the release manifest (null: there is none).
   */
  fetch(
    signal: AbortSignal,
    options?: FetchOptions,
  ): Promise<Readable | FetchedVersion | FetchedManifest | null>;
}
