// Whether a process still runs, asked of the kernel with signal 0 (which sends nothing). Only
// ESRCH says it is gone: EPERM is someone else's process, and a zombie runs until its parent
// hears, so anything that decides to remove what a process left behind errs on keeping it.
import { errorCode } from '../errors.js';

export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) !== 'ESRCH';
  }
}
