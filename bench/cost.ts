// What overseer costs beside bare node and node:cluster, from one run: the import, a worker's
// and the master's memory (run()'s, the overseer/cluster primary's and `overseer run`'s), the
// time from fork to ready (a worker of each of the three), and a restart under load. Targets
// (issues 10 and 22): worker RSS ≤ bare node + 3 MB; each master's RSS ≤ the cluster primary +
// 3 MB; fork → ready ≤ 1.1 × cluster's fork → 'listening'; import ≤ 10 ms; a restart under load no
// slower than the hand-written cluster rolling restart, and req/s while restarting ≥ 1.0×.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startLoad } from './load.js';
import { CLI, overseerCluster, overseerRun, type Running } from './peers.js';
import { freePort, NodeProcess, waitForHttp } from './proc.js';
import { rssMiB } from './rss.js';
import { median } from './stats.js';
import { markdownTable, num } from './table.js';

const app = (file: string): string => fileURLToPath(new URL(`./apps/${file}`, import.meta.url));
const IMPORT_RUNS = 15;
const FORKS = 10;
const LOAD_SECONDS = 12;
const LOAD_RESTARTS = 4;
/** The load runs in rounds, alternating between the two setups. */
const LOAD_ROUNDS = 2;

interface Setup {
  proc: NodeProcess;
  port: number;
  workerPids(): number[];
  masterPid: number | undefined;
}

async function startOverseer(): Promise<Setup> {
  const proc = new NodeProcess(app('overseer.js'), { WORKERS: '1' });
  const addr = String(((await proc.nth('listening', 1)).addresses as string[])[0]);
  await proc.nth('ready', 1);
  const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
  await waitForHttp(port);
  return { proc, port, masterPid: proc.pid, workerPids: () => livePids(proc) };
}

async function startCluster(): Promise<Setup> {
  const port = await freePort();
  const proc = new NodeProcess(app('cluster.js'), { APP: 'plain', WORKERS: '1', PORT: String(port) });
  await proc.nth('listening', 1);
  await waitForHttp(port);
  return { proc, port, masterPid: proc.pid, workerPids: () => livePids(proc) };
}

/** Pids that became ready and have not exited, newest last. */
function livePids(p: NodeProcess): number[] {
  const exited = new Set(p.events.filter((e) => e.event === 'exit').map((e) => Number(e.pid)));
  return p.events
    .filter((e) => e.event === 'ready')
    .map((e) => Number(e.pid))
    .filter((pid) => !exited.has(pid));
}

/**
 * Load long enough for V8 to have compiled what a request runs: after 0.5 s, five bare node
 * processes read 53.6 to 55.3 MiB (some had not yet made the TurboFan compile that pages in
 * node's code), after 2 s 54.6 to 55.4.
 */
async function warm(port: number): Promise<void> {
  const l = startLoad({ port, connections: 4, maxSeconds: 10, timeoutSeconds: 5 });
  await sleep(2_000);
  await l.stop();
  await sleep(1_500);
}

/** Sends SIGUSR2 and waits until the restart is reported and `oldPids` have exited. */
async function restartAndDrain(p: NodeProcess, oldPids: number[]): Promise<number> {
  const before = p.count('restart');
  const t0 = performance.now();
  p.child.kill('SIGUSR2');
  await p.nth('restart', before + 1, 30_000);
  const deadline = Date.now() + 30_000;
  while (oldPids.some((pid) => alive(pid)) && Date.now() < deadline) await sleep(2);
  return performance.now() - t0;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Cost {
  importMs: number;
  importMiB: number;
  workerMiB: { overseer: Rss; bare: Rss; cluster: Rss };
  masterMiB: { overseer: Rss; cluster: Rss; overseerCluster: Rss; overseerRun: Rss };
  /** run()'s and node:cluster's; `overseer run`'s and overseer/cluster's (restarts of one worker). */
  forkReadyMs: { overseer: number; cluster: number; overseerRun: number; overseerCluster: number };
  restartMs: { overseer: number; cluster: number };
  reqPerSec: { overseer: number; cluster: number };
}

function importCost(): { ms: number; mib: number } {
  const runs = Array.from({ length: IMPORT_RUNS }, () => {
    const out = execFileSync(process.execPath, [app('import-cost.js')]).toString();
    return JSON.parse(out.trim().split('\n').pop()!) as { ms: number; rssBefore: number; rssAfter: number };
  });
  return {
    ms: median(runs.map((r) => r.ms)),
    mib: median(runs.map((r) => (r.rssAfter - r.rssBefore) / 2 ** 20)),
  };
}

/**
 * V8 shrinks an idle process's heap by itself (its memory reducer, in rounds some 8 s apart
 * after a collection): the second reading of each process is taken this long after the first,
 * by which time every process here had settled in probes of 35 s (README, Benchmarks).
 */
const IDLE_MS = 30_000;

/** A process's RSS (MiB) right after a short load, and IDLE_MS later with nothing asked of it. */
export interface Rss {
  loaded?: number;
  idle?: number;
}

type MemoryKey =
  | 'bare'
  | 'worker'
  | 'clusterWorker'
  | 'master'
  | 'primary'
  | 'overseerCluster'
  | 'overseerRun';

/** Processes that serve one port: the load goes there, and these pids are read. */
interface MemoryGroup {
  port: number;
  pids: Partial<Record<MemoryKey, number | undefined>>;
  /** For a group started only to be read; a group that outlives the reading has none. */
  stop?(): Promise<unknown>;
}

/**
 * Every process side by side: each group started (unless it is already), loaded at once and
 * read, so that every first reading comes at the same age of its process, then all of them
 * again after IDLE_MS, so that one wait serves them all; then the groups with a stop stop.
 */
async function memory(groups: (() => Promise<MemoryGroup>)[]): Promise<Partial<Record<MemoryKey, Rss>>> {
  const out: Partial<Record<MemoryKey, Rss>> = {};
  const started: MemoryGroup[] = [];
  try {
    for (const start of groups) {
      const g = await start();
      started.push(g);
      await warm(g.port);
      for (const [k, pid] of Object.entries(g.pids)) out[k as MemoryKey] = { loaded: rssMiB(pid) };
    }
    await sleep(IDLE_MS);
    for (const g of started) {
      for (const [k, pid] of Object.entries(g.pids)) out[k as MemoryKey]!.idle = rssMiB(pid);
    }
    return out;
  } finally {
    for (const g of started.reverse()) await g.stop?.();
  }
}

/**
 * What only the memory rows need beside the two setups: bare node, and the overseer/cluster
 * primary and `overseer run`'s master, each with one worker and its control socket listening
 * (nothing asks it anything: readiness is the port answering). `dir` holds the sockets.
 */
function otherGroups(dir: string): (() => Promise<MemoryGroup>)[] {
  return [
    async () => {
      const port = await freePort();
      const bare = new NodeProcess(app('plain.js'), { PORT: String(port) });
      await waitForHttp(port).catch(async (err: unknown) => {
        await bare.stop();
        throw err;
      });
      return { port, pids: { bare: bare.pid }, stop: () => bare.stop() };
    },
    async () => {
      const primary = await overseerCluster('overseer/cluster', 1).start();
      return { port: primary.port, pids: { overseerCluster: primary.masterPid }, stop: () => primary.stop() };
    },
    async () => {
      const port = await freePort();
      const args = ['run', '-w', '1', '--ipc-path', path.join(dir, 'ctl.sock'), app('plain.js')];
      const run = new NodeProcess(CLI, { PORT: String(port) }, args);
      await waitForHttp(port).catch(async (err: unknown) => {
        await run.stop();
        throw err;
      });
      return { port, pids: { overseerRun: run.pid }, stop: () => run.stop() };
    },
  ];
}

/** One fork → ready time: a restart on an idle machine, as the supervisor reports it. */
async function oneForkToReady(s: Setup): Promise<number> {
  const n = s.proc.count('ready');
  await restartAndDrain(s.proc, s.workerPids());
  return Number((await s.proc.nth('ready', n + 1)).startupMs);
}

/**
 * `overseer run` and overseer/cluster with one worker, for their fork → ready: a restart over
 * the control socket answers once the new worker is ready, and its durationMs counts from the
 * restart's start, a step before the spawn, to that ready (a worker's fork → ready as its master
 * counts it, and a little more).
 */
const ONE_WORKER = [overseerRun('overseer run', 1), overseerCluster('overseer/cluster', 1)];

/** RESTARTS restarts, evenly spread over `seconds` of keep-alive load. */
async function underLoad(s: Setup, seconds: number, restarts: number) {
  const load = startLoad({ port: s.port, connections: 32, maxSeconds: seconds + 30, timeoutSeconds: 10 });
  const t0 = Date.now();
  const times: number[] = [];
  for (let i = 0; i < restarts; i++) {
    const at = t0 + ((i + 0.5) * seconds * 1000) / restarts;
    await sleep(Math.max(0, at - Date.now()));
    times.push(await restartAndDrain(s.proc, s.workerPids()));
  }
  await sleep(Math.max(0, t0 + seconds * 1000 - Date.now()));
  const stats = await load.stop();
  return { times, ok: stats.ok, seconds: stats.seconds };
}

export async function cost(log: (m: string) => void): Promise<Cost> {
  log('cost: import');
  const imp = importCost();
  // Both run side by side and the measurements alternate between them, so that what the
  // machine does meanwhile (this is a shared 2-core box) falls on both alike.
  log('cost: overseer and node:cluster');
  const both = [await startOverseer(), await startCluster()] as const;
  try {
    log(
      `cost: memory, after a short load and ${IDLE_MS / 1000} s later (bare node and all four masters side by side)`,
    );
    // The two setups stay up for what follows (no stop): only the others are stopped here.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-cost-'));
    let mem: Partial<Record<MemoryKey, Rss>>;
    try {
      const [o, c] = both;
      mem = await memory([
        async () => ({ port: o.port, pids: { master: o.masterPid, worker: o.workerPids().at(-1) } }),
        async () => ({ port: c.port, pids: { primary: c.masterPid, clusterWorker: c.workerPids().at(-1) } }),
        ...otherGroups(dir),
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    log('cost: fork → ready and restarts under load, alternating');
    const forks: number[][] = [[], [], [], []];
    const others: Running[] = [];
    try {
      for (const peer of ONE_WORKER) others.push(await peer.start());
      for (let i = 0; i < FORKS; i++) {
        for (const [k, s] of both.entries()) {
          forks[k]!.push(await oneForkToReady(s));
          await sleep(300);
        }
        for (const [k, r] of others.entries()) {
          forks[2 + k]!.push(await r.restart());
          await sleep(300);
        }
      }
    } finally {
      // Not beside the load below, which has the machine's cores to itself.
      for (const r of others) await r.stop();
    }
    const loaded = [
      { times: [] as number[], ok: 0, seconds: 0 },
      { times: [] as number[], ok: 0, seconds: 0 },
    ];
    for (let round = 0; round < LOAD_ROUNDS; round++) {
      for (const [k, s] of both.entries()) {
        const r = await underLoad(s, LOAD_SECONDS / LOAD_ROUNDS, LOAD_RESTARTS / LOAD_ROUNDS);
        loaded[k]!.times.push(...r.times);
        loaded[k]!.ok += r.ok;
        loaded[k]!.seconds += r.seconds;
      }
    }
    const [o, c] = [0, 1].map((k) => ({
      fork: median(forks[k]!),
      restartMs: median(loaded[k]!.times),
      reqPerSec: loaded[k]!.ok / loaded[k]!.seconds,
    })) as [Measured, Measured];
    return {
      importMs: imp.ms,
      importMiB: imp.mib,
      workerMiB: { overseer: mem.worker ?? {}, bare: mem.bare ?? {}, cluster: mem.clusterWorker ?? {} },
      masterMiB: {
        overseer: mem.master ?? {},
        cluster: mem.primary ?? {},
        overseerCluster: mem.overseerCluster ?? {},
        overseerRun: mem.overseerRun ?? {},
      },
      forkReadyMs: {
        overseer: o.fork,
        cluster: c.fork,
        overseerRun: median(forks[2]!),
        overseerCluster: median(forks[3]!),
      },
      restartMs: { overseer: o.restartMs, cluster: c.restartMs },
      reqPerSec: { overseer: o.reqPerSec, cluster: c.reqPerSec },
    };
  } finally {
    for (const s of both) await s.proc.stop();
  }
}

interface Measured {
  fork: number;
  restartMs: number;
  reqPerSec: number;
}

const check = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const rss = (r: Rss): string => `${num(r.loaded, 1)} → ${num(r.idle, 1)}`;
const plus = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined ? '-' : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)}`;
const within3 = (a: number | undefined, b: number | undefined): string =>
  check(a !== undefined && b !== undefined && a <= b + 3);

/**
 * One row of RSS: both readings of the process (right after the load → IDLE_MS later) against
 * the same two of its reference, each held to the reference + 3 MiB (issues 10 and 22).
 */
function memoryRow(
  what: string,
  r: Rss,
  refName: string,
  ref: Rss,
  short = 'primary',
  more: string[] = [],
): string[] {
  return [
    `${what} (MiB, after load → ${IDLE_MS / 1000} s idle)`,
    rss(r),
    [`${refName} ${rss(ref)}`, ...more].join('; '),
    `≤ ${short} + 3 MiB (${plus(r.loaded, ref.loaded)} → ${plus(r.idle, ref.idle)} MiB)`,
    `${within3(r.loaded, ref.loaded)} → ${within3(r.idle, ref.idle)}`,
  ];
}

export function costTable(c: Cost): string {
  const times = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  /** One kind of worker's fork → ready, held to 1.1 × node:cluster's fork → 'listening'. */
  const forkRow = (what: string, ms: number): string[] => [
    `fork → ready, idle, ${what} (ms, median of ${FORKS})`,
    num(ms, 0),
    `node:cluster fork → 'listening' ${num(c.forkReadyMs.cluster, 0)}`,
    `≤ 1.1× (${times(ms, c.forkReadyMs.cluster)})`,
    check(ms <= 1.1 * c.forkReadyMs.cluster),
  ];
  const rows = [
    [
      "`import('overseer')`",
      `${num(c.importMs, 1)} ms, +${num(c.importMiB, 1)} MiB RSS`,
      '-',
      '≤ 10 ms',
      check(c.importMs <= 10),
    ],
    memoryRow('worker RSS, hello app', c.workerMiB.overseer, 'bare node', c.workerMiB.bare, 'bare', [
      `node:cluster worker ${rss(c.workerMiB.cluster)}`,
    ]),
    memoryRow(
      'master RSS, run(), control socket on, no fetcher',
      c.masterMiB.overseer,
      'node:cluster primary',
      c.masterMiB.cluster,
    ),
    memoryRow(
      'master RSS, overseer/cluster primary, control socket on',
      c.masterMiB.overseerCluster,
      'node:cluster primary',
      c.masterMiB.cluster,
    ),
    memoryRow(
      'master RSS, `overseer run`, control socket on',
      c.masterMiB.overseerRun,
      'node:cluster primary',
      c.masterMiB.cluster,
    ),
    forkRow('run()', c.forkReadyMs.overseer),
    forkRow('`overseer run -w 1` (its restart, over the control socket)', c.forkReadyMs.overseerRun),
    forkRow(
      'overseer/cluster, one worker (its restart, over the control socket)',
      c.forkReadyMs.overseerCluster,
    ),
    [
      `restart under load, W=1, until ready and the old worker exited (ms, median of ${LOAD_RESTARTS})`,
      num(c.restartMs.overseer, 0),
      `node:cluster rolling restart ${num(c.restartMs.cluster, 0)}`,
      `≤ 1.0× (${times(c.restartMs.overseer, c.restartMs.cluster)})`,
      check(c.restartMs.overseer <= c.restartMs.cluster),
    ],
    [
      `req/s while restarting ${LOAD_RESTARTS}× in ${LOAD_SECONDS} s, W=1`,
      num(c.reqPerSec.overseer),
      `node:cluster rolling restart ${num(c.reqPerSec.cluster)}`,
      `≥ 1.0× (${times(c.reqPerSec.overseer, c.reqPerSec.cluster)})`,
      check(c.reqPerSec.overseer >= c.reqPerSec.cluster),
    ],
  ];
  return markdownTable(['', 'overseer', 'reference, same run', 'target', ''], rows);
}
