// Human-readable output of the `overseer` CLI: short lines and aligned tables.
import { withCode } from '../errors.js';
import { type Found, label, type Unanswered, unansweredState } from './find-master.js';

type Json = Record<string, unknown>;

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function ago(iso: unknown): string {
  if (typeof iso !== 'string') return '-';
  let s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (parts.length < 2) parts.push(`${s}s`);
  return parts.slice(0, 2).join('');
}

const short = (hash: unknown): string => (typeof hash === 'string' ? hash.slice(0, 12) : '-');

/** A CPU share of one core as the status gives it: `12.5%`; '-' where the OS does not tell. */
export function cpu(percent: unknown): string {
  return typeof percent === 'number' ? `${percent.toFixed(1)}%` : '-';
}

/** Bytes, short: `512K`, `48.2M`, `1.50G`; '-' where the OS does not tell. */
export function bytes(n: unknown): string {
  if (typeof n !== 'number') return '-';
  if (n < 1024 ** 2) return `${Math.round(n / 1024)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}M`;
  return `${(n / 1024 ** 3).toFixed(2)}G`;
}

/** The workers of a status. */
export function workersOf(s: Json): Json[] {
  return (Array.isArray(s.workers) ? s.workers : []) as Json[];
}

/** A master's CPU and memory with its workers', for `ls`; '-' unless the OS told each one. */
export function totals(s: Json): { cpu: string; rss: string } {
  const all = [s, ...workersOf(s)];
  const sum = (field: string): number | null => {
    const known = all.map((p) => p[field]).filter((v): v is number => typeof v === 'number');
    return known.length < all.length ? null : known.reduce((a, b) => a + b, 0);
  };
  const c = sum('cpuPercent');
  return { cpu: cpu(c === null ? null : Math.round(c * 10) / 10), rss: bytes(sum('rssBytes')) };
}

/**
 * `overseer ls`: one line per master, its CPU and memory the master's and its workers' together;
 * one that did not answer says why where its app would be.
 */
export function formatLs(masters: readonly Found[], unanswered: readonly Unanswered[] = []): string {
  if (masters.length === 0 && unanswered.length === 0) return 'no running masters\n';
  const rows = [['NAME', 'PID', 'UP', 'WORKERS', 'CPU', 'MEM', 'RESTARTS', 'APP', 'SOCKET']];
  for (const { socket, status: s } of masters) {
    const t = totals(s);
    rows.push([
      typeof s.name === 'string' ? s.name : '-',
      String(s.pid),
      ago(s.startedAt),
      String(workersOf(s).length),
      t.cpu,
      t.rss,
      String(s.restarts),
      String(s.appDir ?? s.binPath),
      socket,
    ]);
  }
  for (const m of unanswered)
    rows.push([label(m), '-', '-', '-', '-', '-', '-', unansweredState(m), m.socket]);
  return table(rows);
}

/** The worker table of `status` and `top`. */
export function workerRows(s: Json): string[][] {
  const rows = [['WORKER', 'PID', 'SLOT', 'STATE', 'UP', 'CPU', 'MEM', 'RESTARTS']];
  for (const w of workersOf(s))
    rows.push([
      String(w.id),
      String(w.pid),
      String(w.slot),
      String(w.state),
      ago(w.startedAt),
      cpu(w.cpuPercent),
      bytes(w.rssBytes),
      String(w.slotRestarts ?? '-'),
    ]);
  return rows;
}

export function formatStatus(s: Json): string {
  const fetcher = s.fetcher as Json | null;
  const lines = [
    ...(typeof s.name === 'string' ? [`name      ${s.name}, app in ${s.appDir}`] : []),
    `master    pid ${s.pid}, up ${ago(s.startedAt)}, overseer ${s.version}, cpu ${cpu(s.cpuPercent)}, mem ${bytes(s.rssBytes)}`,
    `binary    ${s.binPath}${s.binHash ? ` (sha256 ${short(s.binHash)})` : ''}`,
    `listens   ${(s.addresses as string[]).join(', ') || '-'}`,
    `restarts  ${s.restarts} (${s.restartFailures} failed), crashes ${s.crashes}${s.restarting ? ', restarting now' : ''}` +
      (s.restartedAt ? `, last ${ago(s.restartedAt)} ago` : ''),
  ];
  if (fetcher) {
    const last = fetcher.lastResult as Json | null;
    lines.push(
      `fetcher   last check ${fetcher.lastCheck ? `${ago(fetcher.lastCheck)} ago` : 'never'}, last result ${last ? String(last.result) : '-'}`,
    );
    const r = fetcher.release as Json | null | undefined;
    if (r) {
      const step = r.step === null ? '' : `, step ${r.step}`;
      const halted = r.halted ? ', halted' : '';
      lines.push(
        `release   running ${r.running ?? 'unknown'}; manifest ${r.version} at ${r.percent} %${step}${halted}, ` +
          `${r.inShare ? 'in' : 'not in'} the share: ${r.decision} (${r.reason})`,
      );
    }
  }
  lines.push('');
  return `${lines.join('\n')}\n${table(workerRows(s))}`;
}

/** A restart's answer, on the master `on` names: `restarted in 250 ms (api, pid 4242)`. */
export function formatRestart(body: Json, on: string): string {
  return body.ok
    ? `restarted in ${String(body.durationMs)} ms (${on})`
    : `restart failed (${on}): ${withCode(body.error, body.code)}`;
}

/**
 * A trigger-update's answer, on the master `on` names: `upgraded 1a2b3c -> 4d5e6f (api, pid
 * 4242)`; a failure names the master first and ends with its code, as a restart's does.
 */
export function formatUpdate(body: Json, on: string): string {
  if (!body.ok) return `trigger-update failed (${on}): ${withCode(body.error, body.code)}`;
  const done = updateDone(body);
  if (done !== undefined) return `${done} (${on})`;
  return `update failed (${on}${body.rolledBack ? ', rolled back' : ''}): ${withCode(body.reason, body.code)}`;
}

/** What an update that did not fail did; undefined for a failed one. */
function updateDone(body: Json): string | undefined {
  const restarted = body.restarted ? '' : ' (not restarted)';
  switch (body.result) {
    case 'no-update':
      return 'no update';
    case 'upgraded':
      return `upgraded ${short(body.oldHash)} -> ${short(body.newHash)}${restarted}`;
    case 'rolled-back':
      return `rolled back ${short(body.oldHash)} -> ${short(body.newHash)}${restarted}`;
    case 'signalled':
      return 'restart signal sent';
    default:
      return undefined;
  }
}

/** An event line: its time, the master's name (where the stream gives it), the event and its fields. */
export function formatEvent(e: Json): string {
  const { event, time, name, ...rest } = e;
  const detail = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  const who = typeof name === 'string' ? `${name}  ` : '';
  return `${String(time).slice(11, 23)}  ${who}${String(event).padEnd(9)} ${detail}\n`;
}
