// What `overseer top` shows, as lines of text from what it knows: no terminal, no I/O, so a
// test can check a frame. The overview has each master's own line and its workers (id, pid,
// state, age, CPU, memory, restarts), then the chosen master's last events and log lines; the
// logs view has its log lines only; the plain form (stdout not a terminal) has the masters.
import type { Found } from './find-master.js';
import { label } from './find-master.js';
import { ago, bytes, cpu, formatEvent, table, workerRows } from './format.js';

type Json = Record<string, unknown>;

export interface TopState {
  masters: Found[];
  /** The chosen master's socket (the one r and l act on). */
  chosen: string | undefined;
  /** The chosen master's last events and log lines, oldest first. */
  events: Json[];
  logs: Json[];
  /** Why there are no log lines (a master that keeps none), or undefined. */
  noLogs: string | undefined;
  /** The last thing done or found ("restarted in 250 ms (api, pid 4242)"). */
  message: string;
  view: 'overview' | 'logs';
  /** The name asked for, when one was. */
  name: string | undefined;
  /** The control socket asked for, when one was. */
  socket: string | undefined;
  time: Date;
}

const KEYS = '↑/↓ or 1-9 choose  r restart  l logs  q quit';

/** The chosen master, if it still runs. */
export function chosenMaster(s: TopState): Found | undefined {
  return s.masters.find((m) => m.socket === s.chosen);
}

/** A master's own line: its name, pid, age, CPU and memory, restarts and app directory. */
export function masterLine(m: Found): string {
  const st = m.status;
  return `${label(m)}  pid ${String(st.pid)}  up ${ago(st.startedAt)}  cpu ${cpu(st.cpuPercent)}  mem ${bytes(st.rssBytes)}  restarts ${String(st.restarts)}  ${String(st.appDir ?? st.binPath)}`;
}

/** A log line or event as shown: no escape sequences or control characters of the app's. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
}

/** One frame, `width` × `height`: every line cut to the width, at most `height` lines. */
export function frame(s: TopState, width: number, height: number): string[] {
  const lines = s.view === 'logs' ? logsView(s, height) : overview(s, height);
  return lines.slice(0, height).map((l) => (l.length > width ? l.slice(0, width) : l));
}

function header(s: TopState, what: string): string {
  return `overseer top  ${what}  ${s.time.toTimeString().slice(0, 8)}    ${KEYS}`;
}

function nobody(s: TopState): string {
  if (s.socket !== undefined) return `no master answers at ${s.socket}`;
  return s.name === undefined ? 'no running masters' : `no master named '${s.name}' is running`;
}

function overview(s: TopState, height: number): string[] {
  const out = [header(s, `${s.masters.length} master${s.masters.length === 1 ? '' : 's'}`), ''];
  if (s.masters.length === 0) out.push(`  ${nobody(s)}`);
  s.masters.forEach((m, i) => {
    const mark = m.socket === s.chosen ? '>' : ' ';
    out.push(`${mark} ${i + 1} ${masterLine(m)}`);
    for (const row of table(workerRows(m.status)).trimEnd().split('\n')) out.push(`      ${row}`);
  });
  const chosen = chosenMaster(s);
  const bottom = [''];
  if (s.message) bottom.push(s.message);
  if (chosen) {
    // What is left is shared: the events above, the log lines below.
    const room = Math.max(0, height - out.length - bottom.length - 4);
    const logRoom = Math.ceil(room / 2);
    const eventRoom = room - logRoom;
    out.push('', `events of ${label(chosen)}`);
    for (const e of s.events.slice(-eventRoom))
      out.push(`  ${printable(formatEvent(without(e, 'name')).trimEnd())}`);
    out.push('', `logs of ${label(chosen)}`);
    if (s.noLogs) out.push(`  (${s.noLogs})`);
    for (const l of s.logs.slice(-logRoom)) out.push(`  ${printable(String(l.text))}`);
  }
  return [...out.slice(0, Math.max(0, height - bottom.length)), ...bottom];
}

function logsView(s: TopState, height: number): string[] {
  const chosen = chosenMaster(s);
  const out = [header(s, chosen ? `logs of ${masterLine(chosen)}` : 'logs'), ''];
  if (!chosen) out.push(`  ${nobody(s)}`);
  else if (s.noLogs) out.push(`  (${s.noLogs})`);
  const room = Math.max(0, height - out.length - 2);
  for (const l of s.logs.slice(-room)) out.push(printable(String(l.text)));
  out.push('', s.message || 'l or Esc: back to the overview');
  return out;
}

function without(o: Json, key: string): Json {
  const { [key]: _, ...rest } = o;
  return rest;
}

/** The plain form, for a stdout that is not a terminal: each master and its workers. */
export function snapshot(s: TopState): string {
  if (s.masters.length === 0) return `${nobody(s)}\n`;
  return s.masters
    .map((m) => `${masterLine(m)}\n${table(workerRows(m.status)).replace(/^(?=.)/gm, '  ')}`)
    .join('\n');
}
