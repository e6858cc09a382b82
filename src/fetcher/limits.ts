// How much and how slowly an update host may send. An update host (or whoever is on the
// path of a plain-http URL) must not be able to fill the master's disk, hold its fetch
// cycle forever, or, through a gzip bomb, do either with a small download.
import { Transform } from 'node:stream';
import { codedError } from '../errors.js';
import { duration, integer, type Options } from './options.js';

export interface TransferLimits {
  /** The most bytes a version may have (the download, and a .gz once gunzipped). */
  maxBytes: number;
  /** A body slower than this over a window of `timeout` ms fails; 0 turns the check off. */
  minBytesPerSecond: number;
  /** ms a whole download may take; undefined: no bound beyond the rate and stall checks. */
  deadline: number | undefined;
}

export const DEFAULT_MAX_BYTES = 1024 ** 3;
export const DEFAULT_MIN_BYTES_PER_SECOND = 1024;
export const LIMIT_OPTIONS = ['maxBytes', 'minBytesPerSecond', 'deadline'] as const;
/** The most bytes a small document may have: a checksum file, a signature, a release manifest. */
export const SMALL_FILE_LIMIT = 1 << 20;

export function transferLimits(owner: string, o: Options): TransferLimits {
  return {
    maxBytes: maxBytesOption(owner, o),
    minBytesPerSecond: integer(owner, o, 'minBytesPerSecond', DEFAULT_MIN_BYTES_PER_SECOND, 0),
    deadline: o.deadline === undefined ? undefined : duration(owner, o, 'deadline', 0, 1),
  };
}

export function maxBytesOption(owner: string, o: Options): number {
  return integer(owner, o, 'maxBytes', DEFAULT_MAX_BYTES, 1);
}

/** Passes bytes through until more than `maxBytes` have gone by, then errors. */
export function limitBytes(maxBytes: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > maxBytes) {
        done(
          codedError(
            Error,
            'ERR_OVERSEER_FETCH_TOO_LARGE',
            `${what} is larger than maxBytes (${maxBytes} bytes)`,
          ),
        );
        return;
      }
      done(null, chunk);
    },
  });
}
