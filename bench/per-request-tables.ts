// The per-request bench's tables (7, 8 and 9): server CPU per request beside req/s, the
// restarts under the same load, and issue 22's targets each beside the figure measured.
import type { Machine } from './machine.js';
import { type Plan, type Sample, SETUPS, type SetupId, type Summary, summarize } from './per-request.js';
import { settings } from './settings.js';
import { markdownTable, num } from './table.js';
import { describeWrk, describeWrkErrors } from './wrk.js';

/** Issue 22's targets. */
export const TARGETS = {
  /** Server CPU per request of every overseer mode, against node:cluster SCHED_NONE's. */
  cpuVsSchedNone: 1.02,
  /** `overseer run --reuse-port` req/s at W = cores/2, against the best of node:cluster (RR, SCHED_NONE) and pm2. */
  reusePortVsBest: 1.05,
  /** req/s while restarting, against the same mode's steady req/s (and 0 failed). */
  restartVsSteady: 0.97,
} as const;

/** The W at which the req/s target is judged. */
export const HALF = (cores: number): number => Math.max(1, Math.floor(cores / 2));

export interface Versions {
  wrk: string;
  pm2: string;
}

const setupName = (id: SetupId, w: number): string =>
  (SETUPS.find((s) => s.id === id)?.name ?? id).replace(/\bW\b/, String(w));
const times = (r: number): string => (Number.isFinite(r) ? `${r.toFixed(2)}×` : '-');
const check = (ok: boolean | undefined): string =>
  ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED';
const errorCell = (errors: string[]): string => `error: ${(errors[0] ?? '').slice(0, 80)}`;
const find = (rows: Summary[], id: SetupId, w: number): Summary | undefined =>
  rows.find((r) => r.id === id && r.workers === w && r.rounds > 0);

function loadLine(plan: Plan): string {
  return `${describeWrk({ ...plan.wrk, seconds: plan.seconds })} on the same machine, nothing pinned, after ${settings.warmupSeconds} s of the same load to warm up`;
}

export function cpuTable(plan: Plan, rows: Summary[], m: Machine, v: Versions): string {
  const title = `## Table 7: server CPU per request, the whole process tree (plain app; ${loadLine(plan)}; median of ${plan.rounds} interleaved round${plan.rounds === 1 ? '' : 's'})`;
  const about = [
    `${m.cpu} (${m.cores} usable), ${m.os}, node ${m.node}, ${v.wrk}, pm2 ${v.pm2}${m.environment ? `, ${m.environment}` : ''}.`,
    'Server CPU per request: user + system CPU time of the server process and all its descendants (master and workers;',
    'workers that exit count through their parent, from /proc/<pid>/stat), over the measured window, divided by the',
    'requests answered in it. "master" is the root process alone: the node:cluster primary, the pm2 God daemon, the overseer master.',
    '"busiest worker" is the CPU of the busiest worker over the workers\' mean (1.00 = an even spread): how evenly a shared',
    "accept queue, SO_REUSEPORT's hash or a round-robin primary spread the connections.",
  ].join('\n');
  const header = [
    'setup',
    'W',
    'req/s',
    'server CPU µs / request',
    'range over rounds',
    'vs SCHED_NONE',
    'master µs / request',
    'busiest worker',
    'p99 ms',
    'failed',
  ];
  const body = rows.map((r) => {
    const head = [setupName(r.id, r.workers), String(r.workers)];
    if (r.rounds === 0) return [...head, errorCell(r.errors), ...header.slice(3).map(() => '-')];
    const none = find(rows, 'cluster-none', r.workers);
    return [
      ...head,
      num(r.reqPerSec),
      num(r.cpuUsPerRequest, 1),
      `${num(r.cpuUsPerRequestMin, 1)} – ${num(r.cpuUsPerRequestMax, 1)}`,
      none ? times(r.cpuUsPerRequest / none.cpuUsPerRequest) : '-',
      num(r.rootUsPerRequest, 2),
      Number.isFinite(r.busiest) ? times(r.busiest) : '-',
      num(r.p99Ms, 2),
      r.errors.length ? `${num(r.failed)} (${r.errors.length} rounds failed)` : num(r.failed),
    ];
  });
  return `${title}\n\n${about}\n\n${markdownTable(header, body)}\n`;
}

export function restartTable(plan: Plan, rows: Summary[]): string {
  const title = `## Table 8: restarts under the same load (the first 250 ms into a ${plan.seconds} s window, each next one ${settings.spacingMs} ms after the previous one completed; on the servers of the steady window just before; ${plan.rounds} round${plan.rounds === 1 ? '' : 's'})`;
  const header = [
    'setup',
    'W',
    'steady req/s',
    'req/s with restarts',
    'ratio (median of rounds)',
    'restarts',
    'restart ms (median)',
    'time restarting',
    'failed requests',
    'server CPU µs / request',
  ];
  const body = rows
    .filter((r) => r.restart || r.restartErrors.length)
    .map((r) => {
      const head = [setupName(r.id, r.workers), String(r.workers), num(r.reqPerSec)];
      const x = r.restart;
      if (!x) return [...head, errorCell(r.restartErrors), ...header.slice(4).map(() => '-')];
      return [
        ...head,
        num(x.reqPerSec),
        times(x.ratio),
        num(x.restarts),
        num(x.restartMs),
        `${num(x.restartingShare * 100)} %`,
        `${num(x.failed)}${x.failed ? ` (${describeWrkErrors(x.errors)})` : ''}${r.restartErrors.length ? `; ${r.restartErrors.length} rounds failed` : ''}`,
        num(x.cpuUsPerRequest, 1),
      ];
    });
  return `${title}\n\n${markdownTable(header, body)}\n`;
}

export interface TargetRow {
  target: string;
  workers: number;
  measured: string;
  goal: string;
  met: boolean | undefined;
}

/** Each of issue 22's targets at each W it applies to, beside what this run measured. */
export function targets(plan: Plan, rows: Summary[], cores: number): TargetRow[] {
  const out: TargetRow[] = [];
  const overseers = plan.setups.filter((s) => s.overseer);
  for (const w of plan.workers) {
    const none = find(rows, 'cluster-none', w);
    for (const s of overseers) {
      const r = find(rows, s.id, w);
      const ratio = r && none ? r.cpuUsPerRequest / none.cpuUsPerRequest : Number.NaN;
      out.push({
        target: `server CPU / request, ${setupName(s.id, w)}`,
        workers: w,
        measured:
          r && none
            ? `${times(ratio)} (${num(r.cpuUsPerRequest, 1)} vs ${num(none.cpuUsPerRequest, 1)} µs)`
            : 'not measured',
        goal: `≤ ${TARGETS.cpuVsSchedNone.toFixed(2)}× node:cluster SCHED_NONE`,
        met: r && none ? ratio <= TARGETS.cpuVsSchedNone : undefined,
      });
    }
  }
  const half = HALF(cores);
  const rp = find(rows, 'overseer-run-reuseport', half);
  const refs = (['cluster-rr', 'cluster-none', 'pm2'] as const).flatMap((id) => {
    const r = find(rows, id, half);
    return r ? [r] : [];
  });
  const best = refs.reduce<Summary | undefined>(
    (b, r) => (!b || r.reqPerSec > b.reqPerSec ? r : b),
    undefined,
  );
  const skipped = ['cluster-rr', 'cluster-none', 'pm2'].filter((id) => !refs.some((r) => r.id === id));
  out.push({
    target: `req/s, \`overseer run --reuse-port\` vs the best of node:cluster RR, SCHED_NONE and pm2 (W = cores/2)`,
    workers: half,
    measured:
      rp && best
        ? `${times(rp.reqPerSec / best.reqPerSec)} (${num(rp.reqPerSec)} vs ${num(best.reqPerSec)}, ${setupName(best.id, half)}${skipped.length ? `; ${skipped.join(', ')} not measured` : ''})`
        : plan.workers.includes(half)
          ? 'not measured'
          : `not measured (W = ${half} is not in BENCH_WORKERS)`,
    goal: `≥ ${TARGETS.reusePortVsBest.toFixed(2)}×`,
    met: rp && best ? rp.reqPerSec >= TARGETS.reusePortVsBest * best.reqPerSec : undefined,
  });
  for (const w of plan.workers) {
    for (const s of overseers) {
      const x = find(rows, s.id, w)?.restart;
      out.push({
        target: `restarts under load, ${setupName(s.id, w)}`,
        workers: w,
        measured: x ? `${num(x.failed)} failed; ${times(x.ratio)} steady req/s` : 'not measured',
        goal: `0 failed, ≥ ${TARGETS.restartVsSteady.toFixed(2)}× steady req/s`,
        met: x ? x.failed === 0 && x.ratio >= TARGETS.restartVsSteady : undefined,
      });
    }
  }
  return out;
}

export function targetTable(rows: TargetRow[]): string {
  const title = '## Table 9: the targets of issue 22 beside what this run measured (Tables 7 and 8)';
  const body = rows.map((t) => [t.target, String(t.workers), t.measured, t.goal, check(t.met)]);
  return `${title}\n\n${markdownTable(['target', 'W', 'measured', 'target', ''], body)}\n`;
}

/** Everything one per-request run found: the tables, and the results as JSON (every sample kept). */
export function perRequestReport(
  plan: Plan,
  samples: Sample[],
  m: Machine,
  v: Versions,
): { markdown: string; results: object } {
  const summary = summarize(plan, samples);
  const goals = targets(plan, summary, m.cores);
  const markdown = [cpuTable(plan, summary, m, v), restartTable(plan, summary), targetTable(goals)].join(
    '\n',
  );
  const results = {
    machine: m,
    versions: v,
    plan: {
      setups: plan.setups.map((s) => s.id),
      workers: plan.workers,
      rounds: plan.rounds,
      seconds: plan.seconds,
      warmupSeconds: settings.warmupSeconds,
      spacingMs: settings.spacingMs,
      wrk: plan.wrk,
      restarted: plan.setups.filter((s) => plan.restarts(s)).map((s) => s.id),
    },
    targets: TARGETS,
    summary,
    goals,
    samples,
  };
  return { markdown, results };
}
