// Human-readable output of the `overseer` CLI: short lines and aligned tables.

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

export function formatLs(masters: { socket: string; status: Json }[]): string {
  if (masters.length === 0) return 'no running masters\n';
  const rows = [['PID', 'UP', 'WORKERS', 'RESTARTS', 'BINARY', 'SOCKET']];
  for (const { socket, status: s } of masters) {
    const workers = Array.isArray(s.workers) ? s.workers.length : 0;
    rows.push([
      String(s.pid),
      ago(s.startedAt),
      String(workers),
      String(s.restarts),
      String(s.binPath),
      socket,
    ]);
  }
  return table(rows);
}

export function formatStatus(s: Json): string {
  const workers = (Array.isArray(s.workers) ? s.workers : []) as Json[];
  const fetcher = s.fetcher as Json | null;
  const lines = [
    `master    pid ${s.pid}, up ${ago(s.startedAt)}, overseer ${s.version}`,
    `binary    ${s.binPath} (sha256 ${short(s.binHash)})`,
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
  const rows = [['WORKER', 'PID', 'SLOT', 'STATE', 'UP']];
  for (const w of workers)
    rows.push([String(w.id), String(w.pid), String(w.slot), String(w.state), ago(w.startedAt)]);
  return `${lines.join('\n')}\n${table(rows)}`;
}

export function formatUpdate(body: Json): string {
  if (!body.ok) return `trigger-update failed: ${body.error}\n`;
  switch (body.result) {
    case 'no-update':
      return 'no update\n';
    case 'upgraded':
      return `upgraded ${short(body.oldHash)} -> ${short(body.newHash)}${body.restarted ? '' : ' (not restarted)'}\n`;
    case 'rolled-back':
      return `rolled back ${short(body.oldHash)} -> ${short(body.newHash)}${body.restarted ? '' : ' (not restarted)'}\n`;
    case 'signalled':
      return 'restart signal sent\n';
    default:
      return `update failed: ${body.reason}${body.rolledBack ? ' (rolled back)' : ''}\n`;
  }
}

export function formatEvent(e: Json): string {
  const { event, time, ...rest } = e;
  const detail = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${String(time).slice(11, 23)}  ${String(event).padEnd(9)} ${detail}\n`;
}
