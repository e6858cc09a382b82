// Keep-alive load with wrk, for the per-request bench. wrk costs a few µs of CPU per request
// where autocannon costs tens: on a machine whose cores the load generator shares with the
// servers, that is the difference between measuring the servers and measuring the client.
//
// It also counts every request that fails, which is what the restart rows need, with nothing
// run per request (a Lua `done` hook only reads wrk's own summary at the end):
//   - connect errors (a refused or reset connect),
//   - read errors: the server closed or reset a connection with a request on it (wrk always has
//     one in flight on each connection), the kind autocannon 8 counts nowhere (see load.ts),
//   - write errors (a request written to a closed connection),
//   - status errors (answers ≥ 400), and timeouts (no answer within TIMEOUT_S).
// wrk honours `Connection: close` (it opens a new connection after such an answer), as
// load.ts makes autocannon do. What wrk cannot say: which request was lost when, or the
// longest gap; Table 2 (autocannon) keeps those.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIMEOUT_S = 10;

/** Prints wrk's summary as one JSON line once the run is done. */
const REPORT_LUA = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"wrk":{"durationUs":%d,"requests":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50Us":%d,"p99Us":%d}}\\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

export interface WrkOptions {
  wrk: string;
  port: number;
  threads: number;
  connections: number;
  seconds: number;
}

export interface WrkErrors {
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
}

export interface WrkStats {
  seconds: number;
  /** Answers below 400. */
  ok: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: WrkErrors;
  /** The sum of `errors`. */
  failed: number;
}

/** What REPORT_LUA prints. */
interface WrkSummary extends WrkErrors {
  durationUs: number;
  /** Every answer, errors by status included. */
  requests: number;
  p50Us: number;
  p99Us: number;
}

let script: string | undefined;
function reportScript(): string {
  if (script === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-wrk-'));
    script = path.join(dir, 'report.lua');
    fs.writeFileSync(script, REPORT_LUA);
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return script;
}

/** The wrk command line for a run, as the tables print it. */
export function describeWrk(o: Omit<WrkOptions, 'port' | 'wrk'>): string {
  return `wrk -t${o.threads} -c${o.connections} -d${o.seconds}s --timeout ${TIMEOUT_S}s`;
}

/** `wrk --version`'s first line, or why it cannot run. */
export function wrkVersion(wrk: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(wrk, ['--version'], { timeout: 5000 }, (err, stdout, stderr) => {
      const line = `${stdout}${stderr}`.split('\n')[0]?.trim() ?? '';
      resolve(
        /^wrk /.test(line) ? line.replace(/ Copyright.*/, '') : `unavailable (${err?.message ?? line})`,
      );
    });
  });
}

/** Runs wrk against 127.0.0.1:port for `seconds` and returns its summary. */
export function runWrk(o: WrkOptions): Promise<WrkStats> {
  const args = [
    `-t${o.threads}`,
    `-c${Math.max(o.connections, o.threads)}`,
    `-d${o.seconds}s`,
    '--timeout',
    `${TIMEOUT_S}s`,
    '-s',
    reportScript(),
    `http://127.0.0.1:${o.port}/`,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      o.wrk,
      args,
      { timeout: (o.seconds + TIMEOUT_S + 5) * 1000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${o.wrk} ${args.join(' ')}: ${err.message} ${stderr.slice(-300)}`));
        const line = stdout.split('\n').find((l) => l.startsWith('{"wrk"'));
        if (!line) return reject(new Error(`wrk printed no summary: ${stdout.slice(-300)}`));
        const w = (JSON.parse(line) as { wrk: WrkSummary }).wrk;
        const seconds = w.durationUs / 1e6;
        const errors = {
          connect: w.connect,
          read: w.read,
          write: w.write,
          status: w.status,
          timeout: w.timeout,
        };
        const ok = w.requests - w.status;
        resolve({
          seconds,
          ok,
          reqPerSec: ok / seconds,
          p50Ms: w.p50Us / 1000,
          p99Ms: w.p99Us / 1000,
          errors,
          failed: Object.values(errors).reduce((a, b) => a + b, 0),
        });
      },
    );
  });
}

/** "read 3, timeout 1", or "none". */
export function describeWrkErrors(e: WrkErrors): string {
  return (
    Object.entries(e)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none'
  );
}
