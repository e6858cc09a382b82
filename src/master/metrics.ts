// GET /overseer/metrics: the master's numbers in the Prometheus text format.
import type { MasterStatus } from './status.js';

export function renderMetrics(s: MasterStatus, uptimeSeconds: number): string {
  const lines: string[] = [];
  const metric = (
    name: string,
    type: 'counter' | 'gauge',
    help: string,
    samples: [string, number][],
  ): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const label = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  metric('overseer_info', 'gauge', "overseer version, the running binary and the master's name.", [
    [`{version="${label(s.version)}",bin_hash="${label(s.binHash)}",name="${label(s.name)}"}`, 1],
  ]);
  metric('overseer_uptime_seconds', 'gauge', 'Seconds since the master started.', [
    ['', Math.round(uptimeSeconds)],
  ]);
  metric('overseer_restarts_total', 'counter', 'Completed restarts.', [['', s.restarts]]);
  metric('overseer_restart_failures_total', 'counter', 'Restarts whose new workers failed to become ready.', [
    ['', s.restartFailures],
  ]);
  metric('overseer_crashes_total', 'counter', 'Workers that died outside a restart or failed to start.', [
    ['', s.crashes],
  ]);
  metric(
    'overseer_events_dropped_total',
    'counter',
    'Events lost by control-socket readers that fell behind.',
    [['', s.eventsDropped]],
  );
  const states = ['starting', 'ready', 'draining'] as const;
  metric(
    'overseer_workers',
    'gauge',
    'Worker processes by state.',
    states.map((st) => [`{state="${st}"}`, s.workers.filter((w) => w.state === st).length]),
  );
  // The master's and each worker's CPU and memory, where the OS tells them (usage-sampler.ts).
  const name = `name="${label(s.name)}"`;
  const processes = [
    { labels: `{${name},process="master"}`, u: s },
    ...s.workers.map((w) => ({
      labels: `{${name},process="worker",worker="${w.id}",slot="${w.slot}"}`,
      u: w,
    })),
  ];
  const known = (field: 'cpuSeconds' | 'rssBytes'): [string, number][] =>
    processes.flatMap(({ labels, u }) => (u[field] === null ? [] : [[labels, u[field]]]));
  metric(
    'overseer_cpu_seconds_total',
    'counter',
    'CPU time (user and system) of the master and each worker.',
    known('cpuSeconds'),
  );
  metric(
    'overseer_resident_memory_bytes',
    'gauge',
    'Resident memory of the master and each worker.',
    known('rssBytes'),
  );
  const f = s.fetcher;
  metric('overseer_fetches_total', 'counter', 'Completed fetcher checks.', [['', f?.fetches ?? 0]]);
  metric('overseer_fetch_errors_total', 'counter', 'Fetcher checks that failed.', [
    ['', f?.fetchErrors ?? 0],
  ]);
  metric('overseer_upgrades_total', 'counter', 'Upgrade attempts by result.', [
    ['{result="upgraded"}', f?.upgrades ?? 0],
    ['{result="failed"}', f?.upgradeFailures ?? 0],
    ['{result="rolled-back"}', f?.rollbacks ?? 0],
  ]);
  const r = f?.release;
  if (r) {
    const step = r.step === null ? '' : String(r.step);
    metric(
      'overseer_release_info',
      'gauge',
      "The running version, and the release manifest's version and rollout step.",
      [
        [
          `{running="${label(r.running ?? '')}",version="${label(r.version)}",step="${step}",decision="${r.decision}"}`,
          1,
        ],
      ],
    );
    const gauges: [string, string, number][] = [
      ['overseer_rollout_percent', "The release manifest's rollout share now, in percent.", r.percent],
      [
        'overseer_rollout_in_share',
        'Whether this master is in the rollout share (1) or not (0).',
        r.inShare ? 1 : 0,
      ],
      [
        'overseer_rollout_halted',
        'Whether the release manifest halts the rollout (1) or not (0).',
        r.halted ? 1 : 0,
      ],
    ];
    for (const [name, help, value] of gauges) metric(name, 'gauge', help, [['', value]]);
  }
  return `${lines.join('\n')}\n`;
}
