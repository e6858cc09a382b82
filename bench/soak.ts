// The long-lived master: SOAK_RESTARTS restarts back to back under light keep-alive load,
// with the master's RSS and open fds read at checkpoints (after a short pause, as between
// real restarts, so the heap compaction that follows a settled restart has run).
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad } from './load.js';
import { overseer } from './peers.js';
import { rssMiB } from './rss.js';

export interface SoakPoint {
  restarts: number;
  rss: number | undefined;
  fds: number | undefined;
}

export interface Soak {
  points: SoakPoint[];
  failed: number;
  ok: number;
  seconds: number;
}

const PAUSE_MS = 2_000;

function fdCount(pid: number): number | undefined {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

export async function soak(restarts: number, checkpoints: number[]): Promise<Soak> {
  const t0 = Date.now();
  const running = await overseer('soak', 1).start();
  const load = startLoad({ port: running.port, connections: 4, maxSeconds: 3_600, timeoutSeconds: 10 });
  const points: SoakPoint[] = [];
  try {
    for (let i = 1; i <= restarts; i++) {
      await running.restart();
      if (!checkpoints.includes(i)) continue;
      await sleep(PAUSE_MS);
      points.push({ restarts: i, rss: rssMiB(running.masterPid), fds: fdCount(running.masterPid!) });
      process.stderr.write(`[bench] soak: ${i} restarts, RSS ${points.at(-1)?.rss?.toFixed(1)} MiB\n`);
    }
    const stats = await load.stop();
    return { points, failed: stats.failed, ok: stats.ok, seconds: (Date.now() - t0) / 1000 };
  } finally {
    await load.stop().catch(() => {});
    await running.stop();
  }
}
