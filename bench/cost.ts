// What overseer costs beside bare node and node:cluster, from one run: the import, a worker's
// and the master's memory (run()'s, the overseer/cluster primary's and `overseer run`'s), the
// time from fork to ready, and a restart under load. Targets (issues 10 and 22): worker RSS ≤
// bare node + 3 MB; each master's RSS ≤ the cluster primary + 3 MB;
// fork → ready ≤ 1.1 × cluster's fork → 'listening'; import ≤ 10 ms; a restart under load no
// slower than the hand-written cluster rolling restart, and req/s while restarting ≥ 1.0×.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startLoad } from './load.js';
import { CLI, overseerCluster } from './peers.js';
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

async function warm(port: number): Promise<void> {
  const l = startLoad({ port, connections: 4, maxSeconds: 10, timeoutSeconds: 5 });
  await sleep(500);
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
  workerMiB: { overseer?: number; bare?: number; cluster?: number };
  masterMiB: { overseer?: number; cluster?: number; overseerCluster?: number; overseerRun?: number };
  forkReadyMs: { overseer: number; cluster: number };
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
 * The overseer/cluster primary's RSS and `overseer run`'s master's, each with one worker and its
 * control socket listening, idle after the same short load as the others (nothing asks the
 * control socket anything: readiness is the port answering).
 */
async function otherMasters(): Promise<{ overseerCluster?: number; overseerRun?: number }> {
  const primary = await overseerCluster('overseer/cluster', 1).start();
  let clusterMiB: number | undefined;
  try {
    await warm(primary.port);
    clusterMiB = rssMiB(primary.masterPid);
  } finally {
    await primary.stop();
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-cost-'));
  const args = ['run', '-w', '1', '--ipc-path', path.join(dir, 'ctl.sock'), app('plain.js')];
  const run = new NodeProcess(CLI, { PORT: String(port) }, args);
  try {
    await waitForHttp(port);
    await warm(port);
    return { overseerCluster: clusterMiB, overseerRun: rssMiB(run.pid) };
  } finally {
    await run.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function idleMemory(s: Setup): Promise<{ worker?: number; master?: number }> {
  await warm(s.port);
  return { worker: rssMiB(s.workerPids().at(-1)), master: rssMiB(s.masterPid) };
}

/** One fork → ready time: a restart on an idle machine, as the supervisor reports it. */
async function oneForkToReady(s: Setup): Promise<number> {
  const n = s.proc.count('ready');
  await restartAndDrain(s.proc, s.workerPids());
  return Number((await s.proc.nth('ready', n + 1)).startupMs);
}

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
  log('cost: bare node');
  const barePort = await freePort();
  const bare = new NodeProcess(app('plain.js'), { PORT: String(barePort) });
  let bareMiB: number | undefined;
  try {
    await waitForHttp(barePort);
    await warm(barePort);
    bareMiB = rssMiB(bare.pid);
  } finally {
    await bare.stop();
  }
  // Both run side by side and the measurements alternate between them, so that what the
  // machine does meanwhile (this is a shared 2-core box) falls on both alike.
  log('cost: the overseer/cluster primary and `overseer run`');
  const others = await otherMasters();
  log('cost: overseer and node:cluster, alternating');
  const both = [await startOverseer(), await startCluster()] as const;
  try {
    const mem: { worker?: number; master?: number }[] = [];
    for (const s of both) mem.push(await idleMemory(s));
    const forks: [number[], number[]] = [[], []];
    for (let i = 0; i < FORKS; i++) {
      for (const [k, s] of both.entries()) {
        forks[k]!.push(await oneForkToReady(s));
        await sleep(300);
      }
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
      ...mem[k]!,
      fork: median(forks[k]!),
      restartMs: median(loaded[k]!.times),
      reqPerSec: loaded[k]!.ok / loaded[k]!.seconds,
    })) as [Measured, Measured];
    return {
      importMs: imp.ms,
      importMiB: imp.mib,
      workerMiB: { overseer: o.worker, bare: bareMiB, cluster: c.worker },
      masterMiB: { overseer: o.master, cluster: c.master, ...others },
      forkReadyMs: { overseer: o.fork, cluster: c.fork },
      restartMs: { overseer: o.restartMs, cluster: c.restartMs },
      reqPerSec: { overseer: o.reqPerSec, cluster: c.reqPerSec },
    };
  } finally {
    for (const s of both) await s.proc.stop();
  }
}

interface Measured {
  worker?: number;
  master?: number;
  fork: number;
  restartMs: number;
  reqPerSec: number;
}

export function costTable(c: Cost): string {
  const mb = (v: number | undefined) => num(v, 1);
  const plus = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? '-' : `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)} MiB`;
  const times = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const rows = [
    [
      "`import('overseer')`",
      `${num(c.importMs, 1)} ms, +${num(c.importMiB, 1)} MiB RSS`,
      '-',
      '≤ 10 ms',
      check(c.importMs <= 10),
    ],
    [
      'worker RSS, hello app (MiB)',
      mb(c.workerMiB.overseer),
      `bare node ${mb(c.workerMiB.bare)}; node:cluster worker ${mb(c.workerMiB.cluster)}`,
      `≤ bare + 3 MiB (${plus(c.workerMiB.overseer, c.workerMiB.bare)})`,
      check((c.workerMiB.overseer ?? Infinity) <= (c.workerMiB.bare ?? 0) + 3),
    ],
    [
      'master RSS, run(), idle, control socket on, no fetcher (MiB)',
      mb(c.masterMiB.overseer),
      `node:cluster primary ${mb(c.masterMiB.cluster)}`,
      `≤ primary + 3 MiB (${plus(c.masterMiB.overseer, c.masterMiB.cluster)})`,
      check((c.masterMiB.overseer ?? Infinity) <= (c.masterMiB.cluster ?? 0) + 3),
    ],
    [
      'master RSS, overseer/cluster primary, idle, control socket on (MiB)',
      mb(c.masterMiB.overseerCluster),
      `node:cluster primary ${mb(c.masterMiB.cluster)}`,
      `≤ primary + 3 MiB (${plus(c.masterMiB.overseerCluster, c.masterMiB.cluster)})`,
      check((c.masterMiB.overseerCluster ?? Infinity) <= (c.masterMiB.cluster ?? 0) + 3),
    ],
    [
      'master RSS, `overseer run`, idle, control socket on (MiB)',
      mb(c.masterMiB.overseerRun),
      `node:cluster primary ${mb(c.masterMiB.cluster)}`,
      `≤ primary + 3 MiB (${plus(c.masterMiB.overseerRun, c.masterMiB.cluster)})`,
      check((c.masterMiB.overseerRun ?? Infinity) <= (c.masterMiB.cluster ?? 0) + 3),
    ],
    [
      `fork → ready, idle (ms, median of ${FORKS})`,
      num(c.forkReadyMs.overseer, 0),
      `node:cluster fork → 'listening' ${num(c.forkReadyMs.cluster, 0)}`,
      `≤ 1.1× (${times(c.forkReadyMs.overseer, c.forkReadyMs.cluster)})`,
      check(c.forkReadyMs.overseer <= 1.1 * c.forkReadyMs.cluster),
    ],
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
