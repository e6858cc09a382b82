// FileFetcher: a new version is a new file at `path` (a build writing it, a deploy copying
// or renaming it into place). The Go library polled only; this watches and polls. With
// `manifest: true` the file is a release manifest, read again whenever it changes or its next
// rollout step begins, and the version it names is a file beside it.
import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { codedError } from '../errors.js';
import { type FileStat, sameStat } from '../file-stat.js';
import { hashFile } from '../hash.js';
import { debug } from '../log.js';
import type { Fetched, FetchedManifest, FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
import { statOrNull, waitUntilStable } from './file-stat.js';
import { waitForChange } from './file-watch.js';
import { limitBytes, maxBytesOption, SMALL_FILE_LIMIT } from './limits.js';
import { manifestIntegrity, nextStepAt, parseManifest } from './manifest.js';
import {
  booleanOf,
  duration,
  ed25519PublicKey,
  invalidOption,
  optionsObject,
  requiredString,
} from './options.js';

export interface FileFetcherOptions<M extends boolean = boolean> {
  /** The file to watch: the new version of the program's entry file, or a .tar.gz/.tgz release. */
  path: string;
  /** How often to poll, in ms, when the watch misses a change or cannot run. Default 1000. */
  interval?: number;
  /** The most bytes a version may have; a larger file is refused. Default 1 GiB. */
  maxBytes?: number;
  /** `path` is a release manifest, naming a version file relative to its own directory. Default false. */
  manifest?: M;
  /** With `manifest`: the ed25519 public key (PEM or KeyObject) that the manifest's signatures must match. */
  publicKey?: string | KeyObject;
}

/** How long a file must sit unchanged before it is taken. */
const SETTLE_MS = 150;

interface Committed extends FileStat {
  sha256: string;
}

const OWNER = 'FileFetcher';

export class FileFetcher<M extends boolean = false> implements Fetcher {
  readonly path: string;
  readonly interval: number;
  readonly maxBytes: number;
  /** The file is a release manifest. */
  readonly manifest: M;
  readonly #publicKey: string | undefined;
  /** The last stable look (null: missing); undefined before the first fetch. */
  #seen: FileStat | null | undefined;
  #committed: Committed | undefined;
  /** When the last manifest read has its next rollout step (ms since the epoch). */
  #nextStep: number | undefined;
  /**
   * The last manifest read was taken (its version opened): the next read comes at the next
   * interval, changed or not, so a take that failed is tried again as over HTTP.
   */
  #took = false;

  constructor(options: FileFetcherOptions<M>) {
    const o = optionsObject(OWNER, options, ['path', 'interval', 'maxBytes', 'manifest', 'publicKey']);
    this.path = resolve(requiredString(OWNER, o, 'path'));
    this.interval = duration(OWNER, o, 'interval', 1000, 1);
    this.maxBytes = maxBytesOption(OWNER, o);
    this.manifest = booleanOf(OWNER, o, 'manifest') as M;
    if (o.publicKey !== undefined && !this.manifest) {
      throw invalidOption(OWNER, 'publicKey', 'needs manifest: true (the signatures are in the manifest)');
    }
    this.#publicKey = ed25519PublicKey(OWNER, o, 'publicKey');
  }

  /**
   * The first call looks at once; later ones wait for the file to differ from the last look,
   * unless `immediate`. Null when the file is missing or holds the committed content.
   */
  async fetch(signal: AbortSignal, options: FetchOptions = {}): Promise<Fetched<M>> {
    signal.throwIfAborted();
    const seen = this.#seen;
    if (!options.immediate && seen !== undefined) {
      const stepDue = (): boolean => this.#nextStep !== undefined && Date.now() >= this.#nextStep;
      await waitForChange(
        this.path,
        this.interval,
        signal,
        async () => this.#took || stepDue() || !sameStat(await statOrNull(this.path), seen),
      );
    }
    return (this.manifest ? await this.#readManifest(signal) : await this.#check(signal)) as Fetched<M>;
  }

  /** The manifest, read whole once it sits still; null while there is none. */
  async #readManifest(signal: AbortSignal): Promise<FetchedManifest | null> {
    const stat = await waitUntilStable(this.path, signal, SETTLE_MS);
    this.#seen = stat;
    this.#nextStep = undefined;
    this.#took = false;
    if (stat === null) {
      debug('FileFetcher: the manifest %s is missing: no update', this.path);
      return null;
    }
    const body = stat.size > SMALL_FILE_LIMIT ? undefined : await readFile(this.path, { signal });
    if (body === undefined || body.length > SMALL_FILE_LIMIT) {
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_BAD_RESPONSE',
        `FileFetcher: the manifest ${this.path} is larger than ${SMALL_FILE_LIMIT} bytes`,
      );
    }
    const manifest = parseManifest(body, this.path);
    this.#nextStep = nextStepAt(manifest.rollout, Date.now());
    return {
      manifest,
      source: this.path,
      open: async () => {
        this.#took = true;
        const integrity = manifestIntegrity(manifest, this.#publicKey, this.path);
        const file = resolve(dirname(this.path), manifest.url);
        const size = (await statOrNull(file))?.size;
        if (size === undefined) {
          throw codedError(
            Error,
            'ERR_OVERSEER_FETCH_FAILED',
            `FileFetcher: the manifest ${this.path} names ${file}, which does not exist`,
          );
        }
        this.#checkSize(file, size);
        return { ...this.#read(file), version: manifest.version, ...integrity };
      },
    };
  }

  async #check(signal: AbortSignal): Promise<FetchedVersion | null> {
    const stat = await waitUntilStable(this.path, signal, SETTLE_MS);
    this.#seen = stat;
    if (stat === null) {
      debug('FileFetcher: %s is missing: no update', this.path);
      return null;
    }
    const committed = this.#committed;
    if (committed && sameStat(committed, stat)) return null;
    this.#checkSize(this.path, stat.size);
    const sha256 = await hashFile(this.path, signal);
    if (committed?.sha256 === sha256) {
      debug('FileFetcher: %s was touched but its content is the committed one', this.path);
      return null;
    }
    debug('FileFetcher: %s changed (%d bytes, sha256 %s)', this.path, stat.size, sha256);
    return {
      ...this.#read(this.path),
      version: new Date(stat.mtimeMs).toISOString(),
      commit: () => {
        this.#committed = { ...stat, sha256 };
      },
    };
  }

  #checkSize(file: string, size: number): void {
    if (size > this.maxBytes) {
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_TOO_LARGE',
        `FileFetcher: ${file} is ${size} bytes, over maxBytes (${this.maxBytes})`,
      );
    }
  }

  #read(file: string): FetchedVersion {
    return {
      // It may still grow after the look: the bound holds for what is read.
      stream: pipeline(createReadStream(file), limitBytes(this.maxBytes, `FileFetcher: ${file}`), () => {}),
      name: basename(file),
      source: file,
      maxBytes: this.maxBytes,
    };
  }
}
