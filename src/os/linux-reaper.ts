// A master that is PID 1 (a container's init) inherits every orphan of the container: when
// a worker's child outlives it, the kernel hands it to PID 1, and once it exits it stays a
// zombie until PID 1 reaps it. libuv reaps only the children it spawned, and a waitpid(-1)
// would steal their exit statuses from it, so the reaper reaps only the zombie children that
// no ChildProcess of this process owns. Linux (/proc).
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { debug } from '../log.js';
import { native } from './native.js';

/** The pids of every ChildProcess this process spawned that has not exited. */
const spawned = new Set<number>();
let started = false;

type Spawn = (this: ChildProcess, ...args: unknown[]) => unknown;

function trackSpawns(): void {
  // Every child_process.spawn/fork/exec goes through ChildProcess#spawn (not in @types/node).
  const proto = ChildProcess.prototype as unknown as { spawn: Spawn };
  const spawn = proto.spawn;
  proto.spawn = function (this: ChildProcess, ...args: unknown[]) {
    const result = spawn.apply(this, args);
    const pid = this.pid;
    if (pid !== undefined) {
      spawned.add(pid);
      this.once('exit', () => spawned.delete(pid));
    }
    return result;
  };
}

/** This process's children, from every thread's list (a child belongs to the thread that forked it). */
function children(): number[] {
  const out: number[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const text = fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8');
      for (const p of text.split(' ')) if (p.trim() !== '') out.push(Number(p));
    } catch {}
  }
  return out;
}

function isZombie(pid: number): boolean {
  try {
    // pid (comm) S …: the state follows the last ')' (comm may hold spaces and parentheses).
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Reaps orphans' zombies on every SIGCHLD, from now on; only where this process is PID 1. */
export function reapOrphans(): void {
  if (started || process.pid !== 1) return;
  started = true;
  trackSpawns();
  let queued = false;
  const sweep = (): void => {
    queued = false;
    for (const pid of children()) {
      if (spawned.has(pid) || !isZombie(pid)) continue;
      try {
        if (native().reapChild(pid)) debug('pid 1: reaped orphan %d', pid);
      } catch (err) {
        debug('pid 1: reaping %d: %s', pid, (err as Error).message);
      }
    }
  };
  process.on('SIGCHLD', () => {
    if (queued) return;
    queued = true;
    setImmediate(sweep); // after libuv has reaped its own
  });
  debug('pid 1: reaping orphaned processes');
}
