// The per-request bench (issue 22): what a request costs the server, the whole process tree
// (master and workers) counted, beside req/s, for bare node, node:cluster (round-robin and
// SCHED_NONE), pm2 cluster mode, overseer/cluster, `overseer run` and `overseer run
// --reuse-port`, at each worker count of settings.workers; and, for overseer's modes, req/s and
// failed requests while restarting under the same load.
//
// One plain app serves every setup (bench/apps/plain.ts: `server.listen(port)`, SIGTERM →
// server.close()). The load is wrk (wrk.ts says why). Each round runs every setup at every
// worker count once, in an order that rotates from round to round, so what the machine does
// meanwhile (drift, other load) falls on all of them alike; the tables show medians.
//
// One measurement: start the setup, 1 s of wrk to warm up, then a steady window of
// settings.seconds: the server's CPU time (cpu.ts, whole tree) over it, divided by the
// requests wrk got answered in it. A setup that restarts then gets a second window on the same
// running servers: the same load, with a restart every settings.spacingMs after the previous
// one completed; its req/s is set against the steady window's just before.
import { setTimeout as sleep } from 'node:timers/promises';
import { type TreeCpu, treeCpu, treeCpuSince } from './cpu.js';
import {
  bareNode,
  nodeCluster,
  overseer,
  overseerCluster,
  overseerRun,
  type Peer,
  pm2,
  type Running,
} from './peers.js';
import { settings } from './settings.js';
import { median } from './stats.js';
import { errorText } from './table.js';
import { runWrk, type WrkErrors, type WrkOptions, type WrkStats } from './wrk.js';

export type SetupId =
  | 'bare'
  | 'cluster-rr'
  | 'cluster-none'
  | 'pm2'
  | 'overseer-cluster'
  | 'overseer-run'
  | 'overseer-run-reuseport'
  | 'overseer-api';

export interface Setup {
  id: SetupId;
  /** The row's name; W stands for the worker count. */
  name: string;
  /** One of overseer's ways in: held to the targets. */
  overseer: boolean;
  /** Runs at W = 1 only (one process, no supervisor). */
  single?: boolean;
  /** Left out unless BENCH_PEERS names it. */
  optional?: boolean;
  peer(workers: number): Peer;
}

export const SETUPS: readonly Setup[] = [
  {
    id: 'bare',
    name: 'bare `node` (one process)',
    overseer: false,
    single: true,
    peer: () => bareNode('bare'),
  },
  {
    id: 'cluster-rr',
    name: '`node:cluster`, round-robin',
    overseer: false,
    peer: (w) => nodeCluster('cluster-rr', w, 'plain', 'rr'),
  },
  {
    id: 'cluster-none',
    name: '`node:cluster`, SCHED_NONE',
    overseer: false,
    peer: (w) => nodeCluster('cluster-none', w, 'plain', 'none'),
  },
  { id: 'pm2', name: 'pm2 cluster mode', overseer: false, peer: (w) => pm2('pm2', 'cluster', w, 'plain') },
  {
    id: 'overseer-cluster',
    name: '`overseer/cluster`',
    overseer: true,
    peer: (w) => overseerCluster('overseer-cluster', w),
  },
  { id: 'overseer-run', name: '`overseer run -w W`', overseer: true, peer: (w) => overseerRun('run', w) },
  {
    id: 'overseer-run-reuseport',
    name: '`overseer run -w W --reuse-port`',
    overseer: true,
    peer: (w) => overseerRun('run-reuseport', w, true),
  },
  {
    id: 'overseer-api',
    name: "overseer's `run({ workers: W })`",
    overseer: true,
    optional: true,
    peer: (w) => overseer('api', w),
  },
];

/** One load window: what wrk saw and what the server's process tree spent. */
export interface Window {
  reqPerSec: number;
  ok: number;
  failed: number;
  errors: WrkErrors;
  p50Ms: number;
  p99Ms: number;
  seconds: number;
  /** CPU seconds of the whole tree and of the root (master, primary, pm2 daemon) alone. */
  cpuTreeS: number;
  cpuRootS: number;
  /** Microseconds of server CPU per answered request: the whole tree, and the root alone. */
  cpuUsPerRequest: number;
  rootUsPerRequest: number;
  /** Processes alive in the tree at the end of the window. */
  processes: number;
  /** The busiest worker's CPU over the workers' mean (1 = even); absent with one worker. */
  busiest?: number;
}

export interface RestartWindow extends Window {
  restarts: number;
  /** Each restart's duration as the supervisor reports it. */
  restartMs: number[];
  /** The share of the window during which a restart was under way (0..1). */
  restartingShare: number;
}

export interface Sample {
  round: number;
  workers: number;
  id: SetupId;
  steady?: Window;
  restarts?: RestartWindow;
  /** Why the setup did not start or serve (no figures then). */
  error?: string;
  /** Why the restart window failed (the steady figures stand). */
  restartError?: string;
  /** How long the setup took to start (ready to serve), and the whole measurement, stop included. */
  startMs?: number;
  totalMs?: number;
}

export interface Plan {
  setups: Setup[];
  workers: number[];
  rounds: number;
  seconds: number;
  wrk: Omit<WrkOptions, 'port' | 'seconds'>;
  /** Which setups get a restart window. */
  restarts(s: Setup): boolean;
}

/** The plan that settings (the BENCH_* variables) describe. */
export function planFromSettings(): Plan {
  const known = new Set(SETUPS.map((s) => s.id));
  for (const id of settings.peers ?? []) {
    if (!known.has(id as SetupId))
      throw new Error(`BENCH_PEERS: unknown '${id}' (known: ${[...known].join(', ')})`);
  }
  const setups = SETUPS.filter((s) => (settings.peers ? settings.peers.includes(s.id) : !s.optional));
  return {
    setups,
    workers: settings.workers,
    rounds: settings.rounds,
    seconds: settings.seconds,
    wrk: { wrk: settings.wrk, threads: settings.wrkThreads, connections: settings.wrkConnections },
    restarts: (s) => !s.single && (s.overseer || settings.restartAll),
  };
}

/** The (W, setup) pairs of one round, rotated by `round` so that no setup always goes first. */
export function roundOrder(plan: Plan, round: number): Array<{ workers: number; setup: Setup }> {
  const runs = plan.workers.flatMap((workers) =>
    plan.setups.filter((s) => !s.single || workers === 1).map((setup) => ({ workers, setup })),
  );
  const k =
    runs.length === 0 ? 0 : (round * Math.max(1, Math.floor(runs.length / plan.rounds))) % runs.length;
  return [...runs.slice(k), ...runs.slice(0, k)];
}

function window(stats: WrkStats, cpu: TreeCpu | undefined): Window {
  if (!cpu) throw new Error('the server process tree was gone at the end of the window');
  return {
    reqPerSec: stats.reqPerSec,
    ok: stats.ok,
    failed: stats.failed,
    errors: stats.errors,
    p50Ms: stats.p50Ms,
    p99Ms: stats.p99Ms,
    seconds: stats.seconds,
    cpuTreeS: cpu.tree,
    cpuRootS: cpu.root,
    cpuUsPerRequest: (cpu.tree * 1e6) / stats.ok,
    rootUsPerRequest: (cpu.root * 1e6) / stats.ok,
    processes: cpu.processes,
    ...(cpu.busiest === undefined ? {} : { busiest: cpu.busiest }),
  };
}

/** Runs wrk for `seconds`; the tree's CPU is read as wrk starts and as soon as it exits. */
async function loadWindow(
  plan: Plan,
  pid: number,
  port: number,
  seconds: number,
): Promise<{ stats: WrkStats; cpu: TreeCpu | undefined }> {
  const before = treeCpu(pid);
  const stats = await runWrk({ ...plan.wrk, port, seconds });
  return { stats, cpu: treeCpuSince(before, treeCpu(pid)) };
}

/** How long the restarts overlap [from, to], as a share of it. */
function share(spans: Array<[number, number]>, from: number, to: number): number {
  const covered = spans.reduce((t, [a, b]) => t + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  return covered / (to - from);
}

/** A window of load with restarts: the first 250 ms in, the next spacingMs after each completes. */
async function restartWindow(plan: Plan, running: Running, pid: number): Promise<RestartWindow> {
  const t0 = performance.now();
  const end = t0 + plan.seconds * 1000;
  const load = loadWindow(plan, pid, running.port, plan.seconds);
  let loading = true;
  const done = (): void => {
    loading = false;
  };
  load.then(done, done);
  const spans: Array<[number, number]> = [];
  const restartMs: number[] = [];
  try {
    await sleep(250);
    // A restart still under way when wrk stops runs on, outside the window (its CPU is not counted).
    while (loading && performance.now() < end - 250) {
      const at = performance.now();
      restartMs.push(await running.restart());
      spans.push([at, performance.now()]);
      if (loading) await sleep(settings.spacingMs);
    }
  } finally {
    await load.catch(() => {}); // a failed restart ends the window, never leaves wrk running
  }
  const { stats, cpu } = await load;
  return {
    ...window(stats, cpu),
    restarts: restartMs.length,
    restartMs,
    restartingShare: share(spans, t0, t0 + stats.seconds * 1000),
  };
}

/** One setup at one worker count: start, warm up, the steady window, the restart window, stop. */
export async function measure(plan: Plan, setup: Setup, workers: number, round: number): Promise<Sample> {
  const sample: Sample = { round, workers, id: setup.id };
  const t0 = performance.now();
  let running: Running | undefined;
  try {
    running = await setup.peer(workers).start();
    sample.startMs = Math.round(performance.now() - t0);
    const pid = running.serverPid;
    if (pid === undefined) throw new Error('no server pid to read the CPU time of');
    await runWrk({ ...plan.wrk, port: running.port, seconds: settings.warmupSeconds });
    const steady = await loadWindow(plan, pid, running.port, plan.seconds);
    sample.steady = window(steady.stats, steady.cpu);
    if (plan.restarts(setup)) {
      try {
        sample.restarts = await restartWindow(plan, running, pid);
      } catch (err) {
        sample.restartError = errorText(err);
      }
    }
  } catch (err) {
    sample.error = errorText(err);
  } finally {
    await running?.stop();
    sample.totalMs = Math.round(performance.now() - t0);
  }
  return sample;
}

/**
 * Every round of the plan; `log` hears each sample as it comes, `onSample` gets all so far.
 * With settings.deadlineS, a round starts only if it should end in time (as long as the
 * longest round so far took): the rounds done are what `rounds` then says.
 */
export async function runPlan(
  plan: Plan,
  log: (msg: string) => void,
  onSample?: (samples: Sample[]) => void,
): Promise<{ samples: Sample[]; rounds: number }> {
  const samples: Sample[] = [];
  const deadline = settings.deadlineS > 0 ? performance.now() + settings.deadlineS * 1000 : Infinity;
  let longest = 0;
  for (let round = 0; round < plan.rounds; round++) {
    if (performance.now() + longest > deadline) {
      log(`BENCH_DEADLINE_S=${settings.deadlineS}: stopped after ${round} of ${plan.rounds} rounds`);
      return { samples, rounds: round };
    }
    const t0 = performance.now();
    for (const { workers, setup } of roundOrder(plan, round)) {
      const s = await measure(plan, setup, workers, round);
      samples.push(s);
      onSample?.(samples);
      const f = (w: Window | undefined) =>
        w
          ? `${Math.round(w.reqPerSec)} req/s, ${w.cpuUsPerRequest.toFixed(1)} µs/req, ${w.failed} failed`
          : '';
      const restarts = s.restarts
        ? `; restarts ×${s.restarts.restarts}: ${f(s.restarts)}`
        : s.restartError
          ? `; restarts: ${s.restartError}`
          : '';
      log(
        `round ${round + 1}/${plan.rounds}, W=${workers}, ${setup.id}: ${s.error ?? f(s.steady)}${restarts}`,
      );
    }
    longest = Math.max(longest, performance.now() - t0);
  }
  return { samples, rounds: plan.rounds };
}

/** The medians of one setup at one worker count, over the rounds. */
export interface Summary {
  id: SetupId;
  workers: number;
  rounds: number;
  /** Each round's error, where a round failed. */
  errors: string[];
  reqPerSec: number;
  cpuUsPerRequest: number;
  cpuUsPerRequestMin: number;
  cpuUsPerRequestMax: number;
  rootUsPerRequest: number;
  /** The median over rounds of the busiest worker's CPU over the workers' mean (NaN: one worker). */
  busiest: number;
  p99Ms: number;
  /** Summed over the rounds. */
  failed: number;
  restartErrors: string[];
  restart?: {
    reqPerSec: number;
    /** The median over rounds of (req/s with restarts) / (the steady req/s of the same round and servers). */
    ratio: number;
    restarts: number;
    restartMs: number;
    restartingShare: number;
    cpuUsPerRequest: number;
    failed: number;
    errors: WrkErrors;
  };
}

export function summarize(plan: Plan, samples: Sample[]): Summary[] {
  const out: Summary[] = [];
  for (const workers of plan.workers) {
    for (const setup of plan.setups) {
      if (setup.single && workers !== 1) continue;
      const mine = samples.filter((s) => s.workers === workers && s.id === setup.id);
      const steady = mine.flatMap((s) => (s.steady ? [s.steady] : []));
      const cpu = steady.map((w) => w.cpuUsPerRequest);
      const summary: Summary = {
        id: setup.id,
        workers,
        rounds: steady.length,
        errors: mine.flatMap((s) => (s.error ? [s.error] : [])),
        reqPerSec: median(steady.map((w) => w.reqPerSec)),
        cpuUsPerRequest: median(cpu),
        cpuUsPerRequestMin: Math.min(...cpu),
        cpuUsPerRequestMax: Math.max(...cpu),
        rootUsPerRequest: median(steady.map((w) => w.rootUsPerRequest)),
        busiest: median(steady.flatMap((w) => (w.busiest === undefined ? [] : [w.busiest]))),
        p99Ms: median(steady.map((w) => w.p99Ms)),
        failed: steady.reduce((t, w) => t + w.failed, 0),
        restartErrors: mine.flatMap((s) => (s.restartError ? [s.restartError] : [])),
      };
      const paired = mine.flatMap((s) =>
        s.steady && s.restarts ? [{ steady: s.steady, r: s.restarts }] : [],
      );
      if (paired.length > 0) {
        const errors: WrkErrors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
        for (const { r } of paired)
          for (const k of Object.keys(errors) as Array<keyof WrkErrors>) errors[k] += r.errors[k];
        summary.restart = {
          reqPerSec: median(paired.map((p) => p.r.reqPerSec)),
          ratio: median(paired.map((p) => p.r.reqPerSec / p.steady.reqPerSec)),
          restarts: paired.reduce((t, p) => t + p.r.restarts, 0),
          restartMs: median(paired.flatMap((p) => p.r.restartMs)),
          restartingShare: median(paired.map((p) => p.r.restartingShare)),
          cpuUsPerRequest: median(paired.map((p) => p.r.cpuUsPerRequest)),
          failed: paired.reduce((t, p) => t + p.r.failed, 0),
          errors,
        };
      }
      out.push(summary);
    }
  }
  return out;
}
