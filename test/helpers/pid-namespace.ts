// A process as PID 1 of a new pid namespace, as a container runtime starts a container's
// command: `unshare --pid --fork --mount-proc <command>` (Linux, root). unshare itself stays
// outside, as the parent of the namespace's PID 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc'] as const;

/** false where `unshare` works here, else why a test that needs it is skipped. */
export const unshareSkip: false | string =
  process.platform === 'linux' &&
  spawnSync(UNSHARE[0], [...UNSHARE.slice(1), 'true'], { timeout: 10_000 }).status === 0
    ? false
    : 'needs unshare --pid --fork --mount-proc (Linux, root)';

/** The live children of `pid` (Linux), as the pids this namespace sees. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      out.push(
        ...fs
          .readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
          .split(' ')
          .filter(Boolean)
          .map(Number),
      );
    } catch {}
  }
  return out;
}
