// Connection spread (Table 10): how evenly each mode hands keep-alive connections to its
// workers. node:cluster's round-robin primary deals them out one by one; a shared socket
// (SCHED_NONE, overseer's default) gives each to whichever worker wakes first; reusePort gives
// each worker a socket of its own and lets the kernel hash connections between them. The
// balance decides how much of the machine a mode can use before one worker saturates, which is
// why `--reuse-port` should beat a shared socket and cannot beat round-robin.
//
// One round: open as many connections as wrk does (settings.wrkConnections), one request on each (so every one
// has been accepted and served), count each worker's established sockets on the port from
// /proc (/proc/net/tcp{,6} for the sockets, /proc/<worker>/fd for who holds them), close them.
// The rounds run on the same servers; the figures are the range over rounds.
import fs from 'node:fs';
import http from 'node:http';
import { SETUPS, type SetupId } from './per-request.js';
import { settings } from './settings.js';
import { errorText, markdownTable, num } from './table.js';

/** The modes whose balance differs (pm2 cluster mode is node:cluster's round-robin). */
const IDS: readonly SetupId[] = [
  'cluster-rr',
  'cluster-none',
  'overseer-cluster',
  'overseer-run',
  'overseer-run-reuseport',
];

export interface Spread {
  id: SetupId;
  name: string;
  /** Per round: connections held by each worker, busiest first. */
  rounds: number[][];
  error?: string;
}

/** Inodes of the established TCP sockets whose local port is `port` (IPv4 and IPv6). */
function establishedOn(port: number): Set<string> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT; st 01 is ESTABLISHED; the inode is the 10th field.
      if (f.length > 9 && f[1]!.endsWith(`:${hex}`) && f[3] === '01') inodes.add(f[9]!);
    }
  }
  return inodes;
}

/** How many of `inodes` each of `pids` holds. */
function held(pids: readonly number[], inodes: Set<string>): number[] {
  return pids.map((pid) => {
    let n = 0;
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      return 0;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) n++;
      } catch {
        // closed meanwhile
      }
    }
    return n;
  });
}

/** The pids whose parent is `root`: a supervisor's workers. */
function childrenOf(root: number): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Opens `n` connections to `port`, one answered request on each; closes them with `close()`. */
async function connect(port: number, n: number): Promise<{ close(): void }> {
  const agents = Array.from({ length: n }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const close = (): void => {
    for (const a of agents) a.destroy();
  };
  try {
    await Promise.all(
      agents.map(
        (agent) =>
          new Promise<void>((resolve, reject) => {
            const req = http.get({ host: '127.0.0.1', port, agent, timeout: 10_000 }, (res) => {
              res.resume();
              res.on('end', resolve);
            });
            req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
            req.on('error', reject);
          }),
      ),
    );
  } catch (err) {
    close();
    throw err;
  }
  return { close };
}

export async function measureSpread(log: (msg: string) => void): Promise<Spread[]> {
  const out: Spread[] = [];
  const workers = settings.spreadWorkers;
  for (const id of IDS) {
    const setup = SETUPS.find((s) => s.id === id)!;
    const name = setup.name.replace(/\bW\b/g, String(workers));
    log(`spread: ${name}, ${workers} workers`);
    const spread: Spread = { id, name, rounds: [] };
    out.push(spread);
    let running: Awaited<ReturnType<ReturnType<typeof setup.peer>['start']>> | undefined;
    try {
      running = await setup.peer(workers).start();
      const root = running.serverPid!;
      for (let r = 0; r < settings.spreadRounds; r++) {
        const conns = await connect(running.port, settings.wrkConnections);
        try {
          const counts = held(childrenOf(root), establishedOn(running.port));
          spread.rounds.push(counts.sort((a, b) => b - a));
        } finally {
          conns.close();
        }
      }
    } catch (err) {
      spread.error = errorText(err);
    } finally {
      await running?.stop();
    }
  }
  return out;
}

export function spreadTable(spreads: readonly Spread[]): string {
  const n = settings.wrkConnections;
  const w = settings.spreadWorkers;
  const title = `## Table 10: connection spread, ${n} keep-alive connections to ${w} workers (${settings.spreadRounds} rounds)`;
  const range = (xs: number[], digits: number): string => {
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return lo === hi ? num(lo, digits) : `${num(lo, digits)} – ${num(hi, digits)}`;
  };
  const rows = spreads.map((s) => {
    if (s.error !== undefined || s.rounds.length === 0)
      return [s.name, `error: ${s.error ?? 'no rounds'}`, '', '', ''];
    const mean = n / w;
    return [
      s.name,
      range(
        s.rounds.map((c) => (c[0] ?? 0) / mean),
        2,
      ),
      range(
        s.rounds.map((c) => (c.length < w ? 0 : c.at(-1)!)),
        0,
      ),
      range(
        s.rounds.map((c) => w - c.filter((x) => x > 0).length),
        0,
      ),
      range(
        s.rounds.map((c) => c.reduce((t, x) => t + x, 0)),
        0,
      ),
    ];
  });
  const header = [
    'setup',
    'busiest worker ÷ mean',
    'fewest on a worker',
    'workers with none',
    'connections counted',
  ];
  return `${title}\n\n${markdownTable(header, rows)}\n`;
}
