// CPU time from /proc/<pid>/stat (Linux): of one process (what a supervisor spends while its
// workers serve: a primary that accepts connections, as node:cluster's round-robin does, pays
// per connection; one that never touches traffic should pay almost nothing), and of a whole
// process tree (the master and every worker: what serving costs the machine).
//
// A tree's CPU time is, over the processes alive in it, utime + stime (their own, all threads)
// + cutime + cstime (the children they have reaped, and those children's reaped children). A
// worker that exits during a restart is reaped by its master (node's libuv waits for every
// child it spawned), and its whole lifetime moves into the master's cutime/cstime: the sum
// over a window then counts it once, the part before the window in both samples. What is
// missed: a process reaped by one outside the tree (none of the setups here reparent), and a
// worker that exits between the /proc scan and the read of its parent (a few ms).
import fs from 'node:fs';

/** The kernel's clock ticks per second for /proc times (USER_HZ: 100 on Linux). */
const USER_HZ = 100;

interface Stat {
  ppid: number;
  /** utime + stime, seconds. */
  own: number;
  /** cutime + cstime, seconds. */
  reaped: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces and parentheses), from field 3 on.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      own: (Number(f[11]) + Number(f[12])) / USER_HZ,
      reaped: (Number(f[13]) + Number(f[14])) / USER_HZ,
    };
  } catch {
    return undefined;
  }
}

/** utime + stime of `pid` in seconds, or undefined when it cannot be read. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : readStat(pid)?.own;
}

/** CPU seconds `pid` spent between `before` and now. */
export function cpuSince(pid: number | undefined, before: number | undefined): number | undefined {
  const now = cpuSeconds(pid);
  return now === undefined || before === undefined ? undefined : now - before;
}

export interface TreeCpu {
  /** Seconds: the whole tree, reaped children included. */
  tree: number;
  /** Seconds: the root's own utime + stime. */
  root: number;
  /** Processes alive in the tree when it was read. */
  processes: number;
  /** Seconds: each direct child's own utime + stime (the workers), by pid. */
  children: Map<number, number>;
  /**
   * Over a window (treeCpuSince): the busiest child's CPU over the children's mean, for the
   * children alive at both ends; 1 is an even spread. How evenly the kernel (a shared accept
   * queue, or SO_REUSEPORT's hash) or a round-robin primary spread the load.
   */
  busiest?: number;
}

/** The CPU time of `root` and all its descendants; undefined when `root` is gone. */
export function treeCpu(root: number): TreeCpu | undefined {
  const stats = new Map<number, Stat>();
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  const rootStat = stats.get(root);
  if (!rootStat) return undefined;
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let tree = 0;
  let processes = 0;
  const todo = [root];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    const s = stats.get(pid)!;
    tree += s.own + s.reaped;
    processes++;
    todo.push(...(children.get(pid) ?? []));
  }
  const own = new Map((children.get(root) ?? []).map((pid) => [pid, stats.get(pid)!.own]));
  return { tree, root: rootStat.own, processes, children: own };
}

/** What a tree spent between two readings; undefined when either is missing. */
export function treeCpuSince(before: TreeCpu | undefined, after: TreeCpu | undefined): TreeCpu | undefined {
  if (!before || !after) return undefined;
  const spent = new Map<number, number>();
  for (const [pid, s] of after.children) {
    const b = before.children.get(pid);
    if (b !== undefined) spent.set(pid, s - b);
  }
  const mean = [...spent.values()].reduce((t, s) => t + s, 0) / spent.size;
  return {
    tree: after.tree - before.tree,
    root: after.root - before.root,
    processes: after.processes,
    children: spent,
    ...(spent.size >= 2 && mean > 0 ? { busiest: Math.max(...spent.values()) / mean } : {}),
  };
}
