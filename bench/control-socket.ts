// GET /overseer/status over the control socket: req/s and latency, measured with
// keep-alive connections and microsecond timing (the target is p50 under 1 ms).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeProcess } from './proc.js';

export interface StatusBench {
  reqPerSec: number;
  p50: number;
  p99: number;
  requests: number;
  failed: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

export async function statusOverSocket(connections = 8, seconds = 3): Promise<StatusBench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-ctl-'));
  const socketPath = path.join(dir, 'ctl.sock');
  const p = new NodeProcess(fileURLToPath(new URL('./apps/overseer.js', import.meta.url)), {
    IPC_PATH: socketPath,
  });
  try {
    await p.nth('ready', 1);
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const latencies: number[] = [];
    let failed = 0;
    const deadline = Date.now() + seconds * 1000;
    const once = (): Promise<void> =>
      new Promise((resolve) => {
        const t0 = performance.now();
        const req = http.get({ socketPath, path: '/overseer/status', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(performance.now() - t0);
            else failed++;
            resolve();
          });
        });
        req.on('error', () => {
          failed++;
          resolve();
        });
      });
    const loop = async (): Promise<void> => {
      while (Date.now() < deadline) await once();
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: connections }, loop));
    const elapsed = (Date.now() - t0) / 1000;
    agent.destroy();
    latencies.sort((a, b) => a - b);
    return {
      reqPerSec: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      requests: latencies.length,
      failed,
    };
  } finally {
    await p.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
