// Where this user's named control sockets live on POSIX: `$XDG_RUNTIME_DIR/overseer` where
// XDG_RUNTIME_DIR exists (a per-user directory the login manager makes), else `overseer-<uid>`
// in os.tmpdir(). A master uses the first; a client looks in both, since a master started by a
// service manager has no XDG_RUNTIME_DIR when the shell that asks for it has one. The directory
// is made 0700 and, before each use, checked as ssh's StrictModes checks its files: a real
// directory (not a symlink), this user's, writable by no one else. Anything else is refused
// with ERR_OVERSEER_IPC_DIR: whoever can write there could put a socket of theirs in our place.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codedError, errorCode } from '../../errors.js';

/** The directories, in order: the runtime directory's (where it exists), then the tmpdir's. */
function candidates(): string[] {
  const xdg = process.env.XDG_RUNTIME_DIR;
  const inTmp = path.join(os.tmpdir(), `overseer-${process.getuid?.() ?? 'user'}`);
  return xdg && path.isAbsolute(xdg) && isDirectory(xdg) ? [path.join(xdg, 'overseer'), inTmp] : [inTmp];
}

/** A master's directory: made (0700) when missing, and checked. */
export function ownNamesDir(): string {
  const dir = candidates()[0]!;
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw err;
  }
  check(dir, fs.lstatSync(dir));
  return dir;
}

/** The directories that exist, each checked: where this user's masters may be. */
export function namesDirs(): string[] {
  return candidates().filter((dir) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      return false;
    }
    check(dir, st);
    return true;
  });
}

/** Throws unless `dir` is a real directory of this user's that no one else can write. */
function check(dir: string, st: fs.Stats): void {
  const problem = unsafe(st);
  if (problem === undefined) return;
  throw codedError(
    Error,
    'ERR_OVERSEER_IPC_DIR',
    `overseer: ${dir} ${problem}; control sockets need a directory only this user can use (remove it, or set ipcPath)`,
  );
}

function unsafe(st: fs.Stats): string | undefined {
  const uid = process.getuid?.();
  if (st.isSymbolicLink()) return 'is a symlink';
  if (!st.isDirectory()) return 'is not a directory';
  if (uid !== undefined && st.uid !== uid) return `belongs to uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o022) !== 0) return `is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
  return undefined;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
