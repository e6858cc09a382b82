// How much CPU time and memory a process has used, read from the OS without asking the process:
// on Linux from procfs (/proc/<pid>/stat's utime and stime, /proc/<pid>/status's VmRSS), for
// any pid of ours; elsewhere only this process's own, from Node; for another, undefined (the
// CLI shows '-'). Each read is two small files, done only when someone asks (status.ts).
import fs from 'node:fs';

export interface ProcessUsage {
  /** User and system CPU time since the process started, in seconds. */
  cpuSeconds: number;
  /** Resident set size, in bytes. */
  rssBytes: number;
}

/** /proc reports times in USER_HZ, which Linux fixes at 100 for every userspace ABI but alpha's. */
const TICKS_PER_SECOND = 100;

/** Linux: any process's, from procfs; undefined once it has gone. */
export function procfsUsage(pid: number): ProcessUsage | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15; fields[0] is field 3 (the state).
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
    if (!Number.isFinite(ticks)) return undefined;
    // A zombie has no VmRSS line: it holds no memory.
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: Number.isFinite(rssKb) ? rssKb * 1024 : 0 };
  } catch {
    return undefined;
  }
}

/** Elsewhere: this process's own, from Node; nothing for another process. */
export function ownUsage(pid: number): ProcessUsage | undefined {
  if (pid !== process.pid) return undefined;
  const { user, system } = process.cpuUsage();
  return { cpuSeconds: (user + system) / 1e6, rssBytes: process.memoryUsage.rss() };
}
