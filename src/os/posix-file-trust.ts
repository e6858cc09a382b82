// Whether another user could have written a file the master trusts (`overseer run`'s config
// file and env file), judged as ssh's StrictModes judges its files: the file, and every
// directory above it up to /, must be owned by this process's user or root and writable by
// no one else. A directory writable by others is allowed only with its sticky bit (/tmp):
// there no one else can rename or remove what is ours or root's, and what we walk up
// from is. A symlink is judged as an entry (its owner) and then its target, the same way.
import fs from 'node:fs';
import path from 'node:path';
import { errorCode, errorMessage } from '../errors.js';

const WRITABLE_BY_OTHERS = 0o022;
const STICKY = 0o1000;

function writers(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const others = (mode & 0o002) !== 0;
  return group && others ? 'its group and others' : group ? 'its group' : 'others';
}

/** What is wrong with one chain: the entry at `file` (not followed) and the directories above it. */
function chainProblem(file: string, uid: number): string | undefined {
  const ours = (st: fs.Stats): boolean => st.uid === uid || st.uid === 0;
  const entry = fs.lstatSync(file);
  if (!ours(entry)) return `${file} is owned by uid ${entry.uid}`;
  if (!entry.isSymbolicLink() && (entry.mode & WRITABLE_BY_OTHERS) !== 0)
    return `${file} is writable by ${writers(entry.mode)}`;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const st = fs.statSync(dir);
    if (!ours(st)) return `directory ${dir} is owned by uid ${st.uid}`;
    if ((st.mode & WRITABLE_BY_OTHERS) !== 0 && (st.mode & STICKY) === 0)
      return `directory ${dir} is writable by ${writers(st.mode)}`;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Why another user than this process's (or root) could have written `file`, or undefined when
 * no one could. A file that does not exist is its reader's to report: undefined; one that
 * cannot be checked (a directory this user cannot search) is not trusted.
 */
export function untrustedFile(file: string): string | undefined {
  const uid = process.geteuid?.();
  if (uid === undefined) return undefined;
  const absolute = path.resolve(file);
  try {
    const problem = chainProblem(absolute, uid);
    if (problem !== undefined) return problem;
    const real = fs.realpathSync(absolute);
    return real === absolute ? undefined : chainProblem(real, uid);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    return `${absolute} cannot be checked (${errorMessage(err)})`;
  }
}
