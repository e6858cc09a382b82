// Every BENCH_* environment variable the bench reads, read here once: its name, its default
// and what it sets. `npm run bench`, the many-core mode and the tables all take them from here,
// so a short run (BENCH_ROUNDS=2 BENCH_SECONDS=3 BENCH_WORKERS=1,2) changes every place alike.
import os from 'node:os';

/** The machine's cores, as node sees them (cgroup limits and affinity included). */
export const CORES = os.availableParallelism();

function int(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name}=${raw}: expected an integer ≥ ${min}`);
  return v;
}

/** A comma-separated list of worker counts; 'cores' and 'half' stand for CORES and CORES/2. */
function workerList(name: string, fallback: string): number[] {
  const raw = process.env[name] || fallback;
  const list = raw.split(',').map((s) => {
    const t = s.trim();
    const v = t === 'cores' ? CORES : t === 'half' ? Math.max(1, Math.floor(CORES / 2)) : Number(t);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}=${raw}: '${t}' is not a worker count`);
    return v;
  });
  return [...new Set(list)].sort((a, b) => a - b);
}

function list(name: string): string[] | undefined {
  const raw = process.env[name];
  return raw ? raw.split(',').map((s) => s.trim()) : undefined;
}

export const settings = {
  /** BENCH_ONLY: 'cost', 'cluster', 'per-request', 'drain-cost' or 'restart-timeline' runs that part alone. */
  only: process.env.BENCH_ONLY ?? '',
  /** BENCH_SECONDS: seconds of each measured load window (after a 1 s warm-up). */
  seconds: int('BENCH_SECONDS', 5, 1),
  warmupSeconds: 1,
  /** BENCH_CONNECTIONS: autocannon's keep-alive connections (Tables 1, 2, 2b, 11). */
  connections: int('BENCH_CONNECTIONS', 32, 1),
  /** BENCH_RESTARTS: restarts per run in Tables 2 and 11. */
  restarts: int('BENCH_RESTARTS', 5, 1),
  /** BENCH_SPACING_MS: the pause after one restart completes before the next begins. */
  spacingMs: int('BENCH_SPACING_MS', 1000),
  /** BENCH_SOAK_RESTARTS: restarts of the soak (Table 5); 0 skips it. */
  soakRestarts: int('BENCH_SOAK_RESTARTS', 1000),
  /** BENCH_ROUNDS: interleaved rounds of the per-request bench; its figures are medians. */
  rounds: int('BENCH_ROUNDS', 3, 1),
  /** BENCH_WORKERS: the worker counts of the per-request bench (default 1, 2, cores/2, cores). */
  workers: workerList('BENCH_WORKERS', '1,2,half,cores'),
  /** BENCH_WRK: the wrk binary. */
  wrk: process.env.BENCH_WRK || 'wrk',
  /** BENCH_WRK_CONNECTIONS: wrk's keep-alive connections (the 256). */
  wrkConnections: int('BENCH_WRK_CONNECTIONS', 256, 1),
  /** BENCH_WRK_THREADS: wrk's threads (default a third of the cores, the 5 of 16). */
  wrkThreads: int('BENCH_WRK_THREADS', Math.max(1, Math.round(CORES / 3)), 1),
  /** BENCH_PEERS: which setups the per-request bench runs (ids in per-request.ts); default all but `overseer-api`. */
  peers: list('BENCH_PEERS'),
  /** BENCH_DEADLINE_S: no round of the per-request bench starts unless it should end by then (0: none). */
  deadlineS: int('BENCH_DEADLINE_S', 0),
  /** BENCH_RESTART_ALL=1: the per-request bench also restarts node:cluster and pm2 under load, not only overseer. */
  restartAll: process.env.BENCH_RESTART_ALL === '1',
  /** BENCH_SPREAD_WORKERS: workers of the connection-spread table (Table 10). */
  spreadWorkers: int('BENCH_SPREAD_WORKERS', 8, 2),
  /** BENCH_SPREAD_ROUNDS: rounds of the connection-spread table. */
  spreadRounds: int('BENCH_SPREAD_ROUNDS', 5, 1),
};
