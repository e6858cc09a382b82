// What `overseer top`, `ls` and `status` print, from statuses alone: CPU and memory per worker
// and in totals, '-' where the OS does not tell, a frame cut to the terminal, the plain snapshot,
// an app's escape sequences kept off the screen, and keys split as a terminal sends them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Found } from '../src/cli/find-master.js';
import { bytes, cpu, formatLs, formatStatus, totals } from '../src/cli/format.js';
import { splitKeys } from '../src/cli/terminal.js';
import { frame, printable, snapshot, type TopState } from '../src/cli/top-view.js';

const started = new Date(Date.now() - 65_000).toISOString();
const worker = (id: number, pid: number, cpuPercent: number | null, rssBytes: number | null) => ({
  id,
  pid,
  slot: id - 1,
  state: 'ready',
  startedAt: started,
  readyAt: started,
  slotRestarts: 2,
  cpuPercent,
  cpuSeconds: cpuPercent,
  rssBytes,
});
const master = (name: string, pid: number, workers: object[], usage = true): Found => ({
  socket: `/run/user/1000/overseer/${name}.sock`,
  status: {
    pid,
    name,
    appDir: `/srv/${name}`,
    startedAt: started,
    restarts: 3,
    restartFailures: 0,
    crashes: 0,
    version: '1.0.0',
    binPath: `/srv/${name}/server.js`,
    binHash: 'ab'.repeat(32),
    addresses: ['127.0.0.1:3000'],
    fetcher: null,
    workers,
    cpuPercent: usage ? 0.5 : null,
    cpuSeconds: usage ? 1 : null,
    rssBytes: usage ? 40 * 2 ** 20 : 40 * 2 ** 20,
  },
});
const api = master('api', 100, [worker(1, 101, 12.5, 80 * 2 ** 20), worker(2, 102, 7, 70 * 2 ** 20)]);
const web = master('web', 200, [worker(1, 201, null, null)], false);

test('CPU and memory as the CLI writes them, and totals only where the OS told each process', () => {
  assert.deepEqual([cpu(12.5), cpu(0), cpu(null)], ['12.5%', '0.0%', '-']);
  assert.deepEqual(
    [bytes(512 * 1024), bytes(48.25 * 2 ** 20), bytes(1.5 * 2 ** 30), bytes(null)],
    ['512K', '48.3M', '1.50G', '-'],
  );
  assert.deepEqual(totals(api.status), { cpu: '20.0%', rss: '190.0M' });
  assert.deepEqual(totals(web.status), { cpu: '-', rss: '-' });
  const ls = formatLs([api, web]).split('\n');
  assert.match(ls[0]!, /^NAME\s+PID\s+UP\s+WORKERS\s+CPU\s+MEM\s+RESTARTS\s+APP\s+SOCKET$/);
  assert.match(ls[1]!, /^api\s+100\s+1m5s\s+2\s+20\.0%\s+190\.0M\s+3\s+\/srv\/api\s+/);
  assert.match(ls[2]!, /^web\s+200\s+1m5s\s+1\s+-\s+-\s+3\s+\/srv\/web\s+/);
  const status = formatStatus(api.status);
  assert.match(status, /^name {6}api, app in \/srv\/api$/m);
  assert.match(status, /^master {4}pid 100, up 1m5s, overseer 1\.0\.0, cpu 0\.5%, mem 40\.0M$/m);
  assert.match(status, /^WORKER\s+PID\s+SLOT\s+STATE\s+UP\s+CPU\s+MEM\s+RESTARTS$/m);
  assert.match(status, /^1\s+101\s+0\s+ready\s+1m5s\s+12\.5%\s+80\.0M\s+2$/m);
  assert.match(status, /^binary {4}\/srv\/api\/server\.js \(sha256 abababababab\)$/m);
  // An overseer/cluster primary hashes no file (its binHash is ''): no empty "(sha256 )".
  const cluster = formatStatus({ ...api.status, binHash: '' });
  assert.match(cluster, /^binary {4}\/srv\/api\/server\.js$/m);
});

const state = (over: Partial<TopState> = {}): TopState => ({
  masters: [api, web],
  chosen: api.socket,
  events: [{ event: 'ready', time: '2026-01-01T12:00:01.250Z', name: 'api', workerId: 2, pid: 102 }],
  logs: [{ text: '\x1b[32mGET /\x1b[0m 200\x07' }, { text: 'second line' }],
  noLogs: undefined,
  message: 'restarted in 212 ms (api, pid 100)',
  view: 'overview',
  name: undefined,
  socket: undefined,
  time: new Date(),
  ...over,
});

test("top's overview: each master's line and workers, the chosen one's events and logs, cut to the terminal", () => {
  const lines = frame(state(), 100, 40);
  assert.match(
    lines[0]!,
    /^overseer top {2}2 masters {2}\d\d:\d\d:\d\d {4}↑\/↓ or 1-9 choose {2}r restart {2}l logs {2}q quit$/,
  );
  assert.ok(lines.every((l) => l.length <= 100));
  const text = lines.join('\n');
  assert.match(
    text,
    /^> 1 api {2}pid 100 {2}up 1m5s {2}cpu 0\.5% {2}mem 40\.0M {2}restarts 3 {2}\/srv\/api$/m,
  );
  assert.match(text, /^ {2}2 web {2}pid 200 .* cpu - {2}mem 40\.0M/m);
  assert.match(text, /^ {6}1\s+101\s+0\s+ready\s+1m5s\s+12\.5%\s+80\.0M\s+2$/m);
  assert.match(text, /^events of api\n {2}12:00:01\.250 {2}ready {5}workerId=2 pid=102$/m);
  assert.match(text, /^logs of api\n {2}GET \/ 200\n {2}second line$/m, "the app's escapes are not drawn");
  assert.equal(lines.at(-1), 'restarted in 212 ms (api, pid 100)');
  // A short terminal keeps the masters and the message, and cuts the rest.
  const short = frame(state(), 100, 12);
  assert.equal(short.length, 12);
  assert.equal(short.at(-1), 'restarted in 212 ms (api, pid 100)');
});

test("top's logs view, a name that does not run, and the plain snapshot", () => {
  const logs = frame(state({ view: 'logs', message: '' }), 120, 10);
  assert.match(logs[0]!, /^overseer top {2}logs of api {2}pid 100/);
  assert.deepEqual(logs.slice(2, 4), ['GET / 200', 'second line']);
  assert.equal(logs.at(-1), 'l or Esc: back to the overview');
  const none = frame(state({ masters: [], chosen: undefined, name: 'shop', message: '' }), 80, 10);
  assert.ok(none.includes("  no master named 'shop' is running"), none.join('\n'));
  const noSocket = frame(
    state({ masters: [], chosen: undefined, socket: '/run/x.sock', message: '' }),
    80,
    10,
  );
  assert.ok(noSocket.includes('  no master answers at /run/x.sock'), noSocket.join('\n'));
  const plain = snapshot(state());
  assert.match(
    plain,
    /^api {2}pid 100 .*\n {2}WORKER\s+PID\s+SLOT\s+STATE\s+UP\s+CPU\s+MEM\s+RESTARTS\n {2}1\s+101/,
  );
  assert.ok(!plain.includes('\x1b') && !plain.includes('events of'), 'plain lines: no escapes, no events');
  assert.ok(
    plain.split('\n').every((l) => l === l.trimEnd()),
    'no trailing blanks',
  );
});

test('keys as a terminal sends them: arrows whole, everything else one by one', () => {
  assert.deepEqual(splitKeys('q'), ['q']);
  assert.deepEqual(splitKeys('\x1b[A\x1b[Br2\x03'), ['\x1b[A', '\x1b[B', 'r', '2', '\x03']);
  assert.deepEqual(splitKeys('\x1bOB\x1b'), ['\x1bOB', '\x1b']);
  assert.equal(printable('\x1b[1;31mred\x1b[0m\tok\r'), 'red\tok');
});
