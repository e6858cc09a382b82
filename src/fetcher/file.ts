// FileFetcher: a new version is a new file at `path` (a build writing it, a deploy copying
// or renaming it into place). The Go library polled only; this watches and polls.
import { createReadStream } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream';
import { codedError } from '../errors.js';
import { hashFile } from '../hash.js';
import { debug } from '../log.js';
import type { FetchedVersion, Fetcher, FetchOptions } from './fetcher.js';
import { type FileStat, sameStat, statOrNull, waitUntilStable } from './file-stat.js';
import { waitForChange } from './file-watch.js';
import { limitBytes, maxBytesOption } from './limits.js';
import { duration, optionsObject, requiredString } from './options.js';

export interface FileFetcherOptions {
  /** The file to watch: the new version of the program's entry file, or a .tar.gz/.tgz release. */
  path: string;
  /** How often to poll, in ms, when the watch misses a change or cannot run. Default 1000. */
  interval?: number;
  /** The most bytes a version may have; a larger file is refused. Default 1 GiB. */
  maxBytes?: number;
}

/** How long a file must sit unchanged before it is taken. */
const SETTLE_MS = 150;

interface Committed extends FileStat {
  sha256: string;
}

export class FileFetcher implements Fetcher {
  readonly path: string;
  readonly interval: number;
  readonly maxBytes: number;
  /** The last stable look (null: missing); undefined before the first fetch. */
  #seen: FileStat | null | undefined;
  #committed: Committed | undefined;

  constructor(options: FileFetcherOptions) {
    const o = optionsObject('FileFetcher', options, ['path', 'interval', 'maxBytes']);
    this.path = resolve(requiredString('FileFetcher', o, 'path'));
    this.interval = duration('FileFetcher', o, 'interval', 1000, 1);
    this.maxBytes = maxBytesOption('FileFetcher', o);
  }

  /**
   * The first call looks at once; later ones wait for the file to differ from the last look,
   * unless `immediate`. Null when the file is missing or holds the committed content.
   */
  async fetch(signal: AbortSignal, options: FetchOptions = {}): Promise<FetchedVersion | null> {
    signal.throwIfAborted();
    const seen = this.#seen;
    if (!options.immediate && seen !== undefined) {
      await waitForChange(
        this.path,
        this.interval,
        signal,
        async () => !sameStat(await statOrNull(this.path), seen),
      );
    }
    return this.#check(signal);
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
    if (stat.size > this.maxBytes) {
      throw codedError(
        Error,
        'ERR_OVERSEER_FETCH_TOO_LARGE',
        `FileFetcher: ${this.path} is ${stat.size} bytes, over maxBytes (${this.maxBytes})`,
      );
    }
    const sha256 = await hashFile(this.path, signal);
    if (committed?.sha256 === sha256) {
      debug('FileFetcher: %s was touched but its content is the committed one', this.path);
      return null;
    }
    debug('FileFetcher: %s changed (%d bytes, sha256 %s)', this.path, stat.size, sha256);
    return {
      // It may still grow after the look: the bound holds for what is read.
      stream: pipeline(
        createReadStream(this.path),
        limitBytes(this.maxBytes, `FileFetcher: ${this.path}`),
        () => {},
      ),
      name: basename(this.path),
      source: this.path,
      version: new Date(stat.mtimeMs).toISOString(),
      commit: () => {
        this.#committed = { ...stat, sha256 };
      },
    };
  }
}
