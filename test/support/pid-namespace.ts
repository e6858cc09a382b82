// A process as PID 1 of a new pid namespace, as a container runtime starts a container's
// command: `unshare --pid --fork --mount-proc <command>` (Linux, root). unshare itself stays
// outside, as the parent of the namespace's PID 1. It dies with the test process that started it
// (setpriv --pdeathsig) and takes the namespace with it (--kill-child), so a test that is killed
// leaves nothing behind.
import { spawnSync } from 'node:child_process';

/** The command line before the command: its process is unshare, the command's parent. */
export const PID_NAMESPACE = [
  'setpriv',
  '--pdeathsig',
  'KILL',
  'unshare',
  '--pid',
  '--fork',
  '--mount-proc',
  '--kill-child',
] as const;

/** false where PID_NAMESPACE works here, else why a test that needs it is skipped. */
export const unshareSkip: false | string =
  process.platform === 'linux' &&
  spawnSync(PID_NAMESPACE[0], [...PID_NAMESPACE.slice(1), 'true'], { timeout: 10_000 }).status === 0
    ? false
    : `needs ${PID_NAMESPACE.join(' ')} (Linux, root, util-linux)`;
