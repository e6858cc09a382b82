// The sha256 of the program's entry file: status's binHash, the metrics' bin_hash, and each
// worker's state.id. A worker runs the file as it is on disk when it starts, so a deploy that
// replaces the file and restarts (or a worker replaced after a crash) runs the new one: the
// hash is taken again whenever the file is no longer the one it was taken of. What tells is
// a stat (../file-stat.ts), never a read of an unchanged file.
import fs from 'node:fs';
import { type FileStat, fileStat, sameStat } from '../file-stat.js';
import { hashFile, hashFileSync } from '../hash.js';
import { debug } from '../log.js';

/** The file's stat; null when it cannot be read. */
function statOf(path: string): FileStat | null {
  try {
    const s = fs.statSync(path, { throwIfNoEntry: false });
    return s ? fileStat(s) : null;
  } catch {
    return null; // EACCES, ENOTDIR…: unreadable as well
  }
}

export class ProgramHash {
  #value: string;
  #stat: FileStat | null;

  private constructor(
    readonly path: string,
    value: string,
    stat: FileStat | null,
  ) {
    this.#value = value;
    this.#stat = stat;
  }

  /** The file's hash now. The stat comes first: a change made while it is read shows later. */
  static async of(path: string): Promise<ProgramHash> {
    const stat = statOf(path);
    return new ProgramHash(path, await hashFile(path), stat);
  }

  /** A hash already known (a test's); the file, if any, counts as the one it was taken of. */
  static known(path: string, value: string): ProgramHash {
    return new ProgramHash(path, value, statOf(path));
  }

  /** The hash last taken, without looking at the file. */
  get value(): string {
    return this.#value;
  }

  /** An upgrade put the file whose hash is `value` in place (the upgrader hashed it itself). */
  set(value: string): void {
    this.#value = value;
    this.#stat = statOf(this.path);
  }

  /** Before a restart, off the event loop: hashes the file again if it changed. */
  async refresh(): Promise<string> {
    const stat = statOf(this.path);
    if (stat === null || sameStat(stat, this.#stat)) return this.#value;
    const value = await hashFile(this.path).catch(() => undefined);
    // A file that changed while it was read: the next look hashes it again.
    if (value !== undefined && sameStat(statOf(this.path), stat)) this.#take(stat, value);
    return this.#value;
  }

  /**
   * At a worker's spawn: the same, at once (a worker replaced after a crash starts on the file
   * as it is now). After refresh() this only stats. A file that cannot be read keeps the last
   * hash: the worker that runs it fails on its own.
   */
  current(): string {
    const stat = statOf(this.path);
    if (stat === null || sameStat(stat, this.#stat)) return this.#value;
    try {
      this.#take(stat, hashFileSync(this.path));
    } catch {
      // gone between the stat and the read: as above
    }
    return this.#value;
  }

  #take(stat: FileStat, value: string): void {
    if (value !== this.#value) debug('program %s changed: sha256 %s', this.path, value.slice(0, 12));
    this.#stat = stat;
    this.#value = value;
  }
}
