// The sha256 of the program's entry file: status's binHash, the metrics' bin_hash, and each
// worker's state.id. A worker runs the file as it is on disk when it starts, so a deploy that
// replaces the file and restarts (or a worker replaced after a crash) runs the new one: the
// hash is taken again whenever the file is no longer the one it was taken of. What tells is
// a stat (device, inode, size, mtime, ctime), never a read of an unchanged file.
import fs from 'node:fs';
import { hashFile, hashFileSync } from '../hash.js';
import { debug } from '../log.js';

/** What identifies the file's content without reading it; undefined when it cannot be read. */
function fileKey(path: string): string | undefined {
  try {
    const s = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
    return s && `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined; // EACCES, ENOTDIR…: unreadable as well
  }
}

export class ProgramHash {
  #value: string;
  #key: string | undefined;

  private constructor(
    readonly path: string,
    value: string,
    key: string | undefined,
  ) {
    this.#value = value;
    this.#key = key;
  }

  /** The file's hash now. The stat comes first: a change made while it is read shows later. */
  static async of(path: string): Promise<ProgramHash> {
    const key = fileKey(path);
    return new ProgramHash(path, await hashFile(path), key);
  }

  /** A hash already known (a test's); the file, if any, counts as the one it was taken of. */
  static known(path: string, value: string): ProgramHash {
    return new ProgramHash(path, value, fileKey(path));
  }

  /** The hash last taken, without looking at the file. */
  get value(): string {
    return this.#value;
  }

  /** An upgrade put the file whose hash is `value` in place (the upgrader hashed it itself). */
  set(value: string): void {
    this.#value = value;
    this.#key = fileKey(this.path);
  }

  /** Before a restart, off the event loop: hashes the file again if it changed. */
  async refresh(): Promise<string> {
    const key = fileKey(this.path);
    if (key === undefined || key === this.#key) return this.#value;
    const value = await hashFile(this.path).catch(() => undefined);
    // An upgrade's set() meanwhile knows better than a read that began before it.
    if (value !== undefined && fileKey(this.path) === key) this.#take(key, value);
    return this.#value;
  }

  /**
   * At a worker's spawn: the same, at once (a worker replaced after a crash starts on the file
   * as it is now). After refresh() this only stats. A file that cannot be read keeps the last
   * hash: the worker that runs it fails on its own.
   */
  current(): string {
    const key = fileKey(this.path);
    if (key === undefined || key === this.#key) return this.#value;
    try {
      this.#take(key, hashFileSync(this.path));
    } catch {
      // gone between the stat and the read: as above
    }
    return this.#value;
  }

  #take(key: string, value: string): void {
    if (value !== this.#value) debug('program %s changed: sha256 %s', this.path, value.slice(0, 12));
    this.#key = key;
    this.#value = value;
  }
}
