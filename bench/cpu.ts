// CPU time of one process, from /proc/<pid>/stat (Linux): what a supervisor spends while its
// workers serve. A primary that accepts connections (node:cluster's round-robin) pays per
// connection; one that never touches traffic should pay almost nothing.
import fs from 'node:fs';

/** The kernel's clock ticks per second for /proc times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

/** utime + stime of `pid` in seconds, or undefined when it cannot be read. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from field 3 on.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** CPU seconds `pid` spent between `before` and now. */
export function cpuSince(pid: number | undefined, before: number | undefined): number | undefined {
  const now = cpuSeconds(pid);
  return now === undefined || before === undefined ? undefined : now - before;
}
