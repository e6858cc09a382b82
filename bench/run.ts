// `npm run bench`: overseer against bare node, node:cluster and pm2, with the same hello app
// (bench/apps/hello.ts) and the same keep-alive load (autocannon, see load.ts), then the
// per-request bench (per-request.ts: server CPU per request with wrk, Tables 7 to 9) and the
// connection spread (spread.ts, Table 10) and the throughput around a restart
// (restart-timeline.ts, Table 11). Prints markdown tables on stdout and progress on
// stderr. Each peer that fails becomes a row with its error; every process and pm2 daemon it
// starts is stopped before the next one. The BENCH_* variables (settings.ts) size it;
// BENCH_ONLY=per-request runs Tables 7 to 10 alone, BENCH_ONLY=restart-timeline Table 11.
import { setTimeout as sleep } from 'node:timers/promises';
import { statusOverSocket } from './control-socket.js';
import { cost, costTable } from './cost.js';
import { cpuSeconds, cpuSince } from './cpu.js';
import { drainCost } from './drain-cost.js';
import { describeKinds, type LoadStats, startLoad } from './load.js';
import { machine, packageVersion, withoutStartCosts } from './machine.js';
import {
  bareNode,
  nodeCluster,
  overseer,
  overseerCluster,
  overseerHandoff,
  overseerRun,
  type Peer,
  pm2,
} from './peers.js';
import { planFromSettings, runPlan } from './per-request.js';
import { perRequestReport, type Versions } from './per-request-tables.js';
import { restartTimeline, type Timeline, timelineCaption, timelineTable } from './restart-timeline.js';
import { rssMiB } from './rss.js';
import { settings } from './settings.js';
import { type Soak, soak } from './soak.js';
import { measureSpread, spreadTable } from './spread.js';
import { errorText, markdownTable, num } from './table.js';
import { wrkVersion } from './wrk.js';

const CONNECTIONS = settings.connections;
const WARMUP_S = settings.warmupSeconds;
const SECONDS = settings.seconds;
const RESTARTS = settings.restarts;
const SPACING_MS = settings.spacingMs;
const TIMEOUT_S = 10;
const SOAK_RESTARTS = settings.soakRestarts;
const MAX_LOAD_S = 120;

const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};
/** The bench's keep-alive load on `port` (Tables 1, 2, 2b and 11); `sliceMs` counts its answers per slice. */
const load = (port: number, sliceMs?: number) =>
  startLoad({
    port,
    connections: CONNECTIONS,
    maxSeconds: MAX_LOAD_S,
    timeoutSeconds: TIMEOUT_S,
    ...(sliceMs === undefined ? {} : { sliceMs }),
  });

interface Steady {
  stats: LoadStats;
  rss: number | undefined;
  /** CPU seconds the master (primary, pm2 daemon) spent in the measured window. */
  cpu: number | undefined;
}

/** Warm up, then measure SECONDS of load; the master's RSS is read at the end, under load. */
async function steady(peer: Peer): Promise<Steady> {
  log(`steady: ${peer.name}`);
  const running = await peer.start();
  try {
    const warm = load(running.port);
    await sleep(WARMUP_S * 1000);
    await warm.stop();
    const cpu0 = cpuSeconds(running.masterPid);
    const l = load(running.port);
    await sleep(SECONDS * 1000);
    const rss = rssMiB(running.masterPid);
    const cpu = cpuSince(running.masterPid, cpu0);
    const stats = await l.stop();
    logAccounting(peer.name, stats);
    return { stats, rss, cpu };
  } finally {
    await running.stop();
  }
}

interface UnderLoad extends Steady {
  restartMs: number;
}

/** RESTARTS restarts, SPACING_MS apart after each completes, under keep-alive load. */
async function measureRestarts(peer: Peer): Promise<UnderLoad> {
  log(`restarts under load: ${peer.name}`);
  const running = await peer.start();
  const cpu0 = cpuSeconds(running.masterPid);
  let l: ReturnType<typeof load> | undefined = load(running.port);
  try {
    await sleep(1000);
    let total = 0;
    for (let i = 0; i < RESTARTS; i++) {
      total += await running.restart();
      await sleep(SPACING_MS);
    }
    const rss = rssMiB(running.masterPid);
    const cpu = running.replacesMaster ? Number.NaN : cpuSince(running.masterPid, cpu0);
    const stats = await l.stop();
    l = undefined;
    logAccounting(peer.name, stats);
    return { stats, rss, cpu, restartMs: total / RESTARTS };
  } finally {
    await l?.stop().catch(() => {});
    await running.stop();
  }
}

/** A check on the accounting: what was neither answered nor failed must be in flight (at most one per connection). */
function logAccounting(name: string, s: LoadStats): void {
  const inFlight = s.sent - s.ok - s.failed;
  const note = inFlight >= 0 && inFlight <= CONNECTIONS ? '' : ' (UNACCOUNTED)';
  log(`  ${name}: sent ${s.sent}, ok ${s.ok}, failed ${s.failed}, in flight at stop ${inFlight}${note}`);
}

async function settle<T>(fn: () => Promise<T>): Promise<T | Error> {
  try {
    return await fn();
  } catch (err) {
    log(`  failed: ${errorText(err)}`);
    return err instanceof Error ? err : new Error(String(err));
  }
}

function steadyTable(peers: Peer[], results: Array<Steady | Error>): string {
  const cell = (r: Steady | Error, f: (s: Steady) => string): string =>
    r instanceof Error ? `error: ${errorText(r).slice(0, 60)}` : f(r);
  const rows: Array<[string, (s: Steady) => string]> = [
    ['req/s', (s) => num(s.stats.reqPerSec)],
    ['p50 latency (ms)', (s) => num(s.stats.p50, 2)],
    ['p99 latency (ms)', (s) => num(s.stats.p99, 2)],
    ['failed requests', (s) => num(s.stats.failed)],
    ['master RSS (MiB)', (s) => num(s.rss, 1)],
    ['master CPU s (under load)', (s) => num(s.cpu, 2)],
  ];
  return markdownTable(
    ['', ...peers.map((p) => p.name)],
    rows.map(([label, f]) => [label, ...results.map((r) => cell(r, f))]),
  );
}

function restartTable(peers: Peer[], results: Array<UnderLoad | Error>): string {
  const header = [
    'setup',
    'workers',
    'req/s',
    'p50 ms',
    'p99 ms',
    'failed / restart',
    'total failed',
    'longest gap ms',
    'restart ms',
    'master RSS MiB',
    'master CPU s',
    'failures',
  ];
  const rows = results.map((r, i) => {
    const peer = peers[i]!;
    const head = [peer.name, String(peer.workers)];
    if (r instanceof Error)
      return [...head, `error: ${errorText(r).slice(0, 100)}`, ...header.slice(3).map(() => '-')];
    const s = r.stats;
    return [
      ...head,
      num(s.reqPerSec),
      num(s.p50, 2),
      num(s.p99, 2),
      num(s.failed / RESTARTS, 1),
      num(s.failed),
      num(s.maxGapMs),
      num(r.restartMs),
      num(r.rss, 1),
      num(r.cpu, 2),
      describeKinds(s.kinds),
    ];
  });
  return markdownTable(header, rows);
}

/** The ways to run one unmodified plain app, side by side: from their steady runs and their restart runs. */
function clusterTable(
  peers: Peer[],
  steadyRuns: Array<Steady | Error>,
  restartRuns: Array<UnderLoad | Error>,
): string {
  const header = [
    'setup (2 workers, plain app)',
    'req/s',
    `primary CPU s, ${SECONDS} s of load`,
    'primary CPU s, the restart run',
    'primary RSS MiB',
    'failed / restart',
    'restart ms',
  ];
  const rows = peers.map((peer, i) => {
    const s = steadyRuns[i]!;
    const r = restartRuns[i]!;
    const bad = (x: Error) => `error: ${errorText(x).slice(0, 60)}`;
    return [
      peer.name,
      s instanceof Error ? bad(s) : num(s.stats.reqPerSec),
      s instanceof Error ? '-' : num(s.cpu, 2),
      r instanceof Error ? '-' : num(r.cpu, 2),
      s instanceof Error ? '-' : num(s.rss, 1),
      r instanceof Error ? bad(r) : num(r.stats.failed / RESTARTS, 1),
      r instanceof Error ? '-' : num(r.restartMs),
    ];
  });
  return markdownTable(header, rows);
}

function soakTable(s: Soak | Error): string {
  const title = `## Table 5: the long-lived master, ${SOAK_RESTARTS} restarts under light keep-alive load (4 connections)`;
  if (s instanceof Error) return `${title}\n\nerror: ${errorText(s)}\n`;
  const first = s.points[0]?.rss;
  const rows = s.points.map((p) => [
    num(p.restarts),
    num(p.rss, 1),
    first !== undefined && p.rss !== undefined ? `${(((p.rss - first) / first) * 100).toFixed(1)} %` : '-',
    num(p.fds),
  ]);
  const foot = `${num(s.ok)} requests, ${num(s.failed)} failed, in ${s.seconds.toFixed(0)} s`;
  return `${title}\n\n${markdownTable(['restarts', 'master RSS MiB', 'vs first', 'master fds'], rows)}\n${foot}\n`;
}

/** Tables 7 to 9 (per-request.ts), and the JSON of every sample. */
async function perRequest(): Promise<{ markdown: string; results: object; versions: Versions }> {
  const plan = planFromSettings();
  const versions = { wrk: await wrkVersion(settings.wrk), pm2: packageVersion('pm2') };
  log(
    `per-request bench: W = ${plan.workers.join(', ')}, ${plan.rounds} rounds of ${plan.seconds} s windows`,
  );
  const { samples, rounds } = await runPlan(plan, log);
  const report = perRequestReport({ ...plan, rounds }, samples, machine(), versions);
  const spread = spreadTable(await measureSpread(log));
  return { ...report, markdown: `${report.markdown}\n${spread}`, versions };
}

async function main(): Promise<void> {
  withoutStartCosts();
  const t0 = Date.now();
  const { environment } = machine();
  if (environment) log(environment);
  if (settings.only === 'per-request') {
    process.stdout.write(`${(await perRequest()).markdown}\n`);
    return;
  }
  if (settings.only === 'drain-cost') {
    process.stdout.write(`${await drainCost(log)}\n`);
    return;
  }
  if (settings.only === 'cost') {
    process.stdout.write(`${costTable(await cost(log))}\n`);
    return;
  }

  const single = [overseer('overseer, 1 worker', 1), bareNode('bare `node`')];
  const multi = [
    overseer('overseer, 2 workers, shared socket', 2),
    overseer('overseer, 2 workers, reusePort', 2, true),
    nodeCluster('`node:cluster`, 2 workers', 2, 'plain'),
  ];
  const clusterPeers = [
    overseerRun('`overseer run -w 2`, `overseer restart`, plain app', 2),
    overseerCluster('`overseer/cluster`, `cluster.reload()`', 2),
    nodeCluster('`node:cluster` rolling restart, plain app', 2, 'plain'),
    pm2('pm2 cluster, `pm2 reload`, plain app', 'cluster', 2, 'plain'),
  ];
  // Table 11: W = 1 and 2 of overseer and node:cluster, then the other 2-worker setups.
  const timelinePeers = [
    overseer('overseer (SIGUSR2)', 1),
    nodeCluster('`node:cluster` rolling restart, plain app', 1, 'plain'),
    overseer('overseer (SIGUSR2)', 2),
    ...clusterPeers,
  ];
  const timelines = async (): Promise<string> => {
    const results: Array<Timeline | Error> = [];
    for (const p of timelinePeers) results.push(await settle(() => restartTimeline(p, load, log)));
    return `${timelineCaption()}\n\n${timelineTable(results, timelinePeers)}\n`;
  };
  if (settings.only === 'restart-timeline') {
    process.stdout.write(await timelines());
    return;
  }
  const restarts = [
    overseer('overseer (SIGUSR2)', 1),
    overseer('overseer (SIGUSR2)', 2),
    overseerHandoff('overseer, master handoff (`overseer reexec`)', 1),
    overseerHandoff('overseer, master handoff (`overseer reexec`)', 2),
    clusterPeers[0]!,
    clusterPeers[1]!,
    clusterPeers[3]!,
    pm2('pm2 cluster, `pm2 reload`, careful app', 'cluster', 2, 'careful'),
    clusterPeers[2]!,
    nodeCluster('`node:cluster` rolling restart, careful app', 2, 'careful'),
    pm2('pm2 fork, `pm2 reload`, plain app', 'fork', 1, 'plain'),
  ];

  if (settings.only === 'cluster') {
    const steadyRuns: Array<Steady | Error> = [];
    const restartRuns: Array<UnderLoad | Error> = [];
    for (const p of clusterPeers) steadyRuns.push(await settle(() => steady(p)));
    for (const p of clusterPeers) restartRuns.push(await settle(() => measureRestarts(p)));
    process.stdout.write(`${clusterTable(clusterPeers, steadyRuns, restartRuns)}\n`);
    return;
  }

  const singleResults: Array<Steady | Error> = [];
  for (const p of single) singleResults.push(await settle(() => steady(p)));
  const multiResults: Array<Steady | Error> = [];
  for (const p of multi) multiResults.push(await settle(() => steady(p)));
  const restartResults: Array<UnderLoad | Error> = [];
  for (const p of restarts) restartResults.push(await settle(() => measureRestarts(p)));
  const clusterSteady: Array<Steady | Error> = [];
  for (const p of clusterPeers) clusterSteady.push(await settle(() => steady(p)));
  const clusterRestarts = clusterPeers.map((p) => restartResults[restarts.indexOf(p)]!);

  log('control socket: GET /overseer/status');
  const status = await settle(() => statusOverSocket());

  const costs = await settle(() => cost(log));

  const checkpoints = [100, 500, 1000].filter((n) => n < SOAK_RESTARTS).concat(SOAK_RESTARTS);
  let soaked: Soak | Error | undefined;
  if (SOAK_RESTARTS > 0) {
    log(`soak: ${SOAK_RESTARTS} restarts under light load`);
    soaked = await settle(() => soak(SOAK_RESTARTS, checkpoints));
  }

  const per = await settle(() => perRequest());
  const timeline = await timelines();

  const seconds = (Date.now() - t0) / 1000;
  const m = machine();
  const out = [
    `## Table 1: steady state (${CONNECTIONS} keep-alive connections, ${SECONDS} s after ${WARMUP_S} s warm-up)`,
    '',
    steadyTable(single, singleResults),
    '',
    steadyTable(multi, multiResults),
    '',
    `## Table 2: ${RESTARTS} restarts under keep-alive load (${CONNECTIONS} connections)`,
    '',
    restartTable(restarts, restartResults),
    '',
    `## Table 2b: one unmodified plain app (\`http.createServer(handler).listen(port)\`, 2 workers) under \`overseer run\`, under a node:cluster primary, the same primary on \`overseer/cluster\`, and under pm2 cluster mode (${CONNECTIONS} connections; restarts as in Table 2)`,
    '',
    clusterTable(clusterPeers, clusterSteady, clusterRestarts),
    '',
    '## Table 3: `GET /overseer/status` over the control socket (8 keep-alive connections, 3 s)',
    '',
    status instanceof Error
      ? `error: ${errorText(status)}`
      : markdownTable(
          ['req/s', 'p50 ms', 'p99 ms', 'requests', 'failed'],
          [
            [
              num(status.reqPerSec),
              num(status.p50, 3),
              num(status.p99, 3),
              num(status.requests),
              num(status.failed),
            ],
          ],
        ),
    '',
    '## Table 4: what overseer costs, beside bare node and node:cluster (one worker, idle unless said)',
    '',
    costs instanceof Error ? `error: ${errorText(costs)}` : costTable(costs),
    '',
    ...(soaked === undefined ? [] : [soakTable(soaked), '']),
    '## Table 6: machine and parameters',
    '',
    markdownTable(
      ['', ''],
      [
        ['CPU', m.cpu],
        ['OS', m.os],
        ['node', m.node],
        ['environment', m.environment || 'as found'],
        [
          'autocannon / wrk / pm2',
          `${packageVersion('autocannon')} / ${per instanceof Error ? '?' : per.versions.wrk} / ${packageVersion('pm2')}`,
        ],
        ['load', `${CONNECTIONS} keep-alive connections, 1 request in flight each, ${TIMEOUT_S} s timeout`],
        ['steady state', `${WARMUP_S} s warm-up, then ${SECONDS} s measured`],
        [
          'restarts',
          `${RESTARTS}, the next one ${SPACING_MS} ms after the previous one completed; load from 1 s before the first`,
        ],
        [
          'master RSS',
          'VmRSS of the overseer master, the cluster primary or the pm2 God daemon (pm2.pid), read under load',
        ],
        [
          'restart ms',
          'as its supervisor reports it: overseer until the new workers are ready (a handoff: until those of the new master are); the cluster primary and `pm2 reload` until the old ones have exited',
        ],
        ['failed', 'connection errors + timeouts + non-2xx + requests lost without an answer'],
        ['longest gap ms', 'the longest time without a successful response anywhere in the run'],
        ['bench time', `${seconds.toFixed(0)} s`],
      ],
    ),
    '',
    per instanceof Error ? `## Table 7: server CPU per request\n\nerror: ${errorText(per)}\n` : per.markdown,
    '',
    timeline,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
