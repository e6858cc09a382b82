// A node:cluster primary with the usual hand-written rolling restart. On SIGUSR2, for each
// old worker: fork a new one, wait for its 'listening', then send the old one 'shutdown'
// (SIGKILL after KILL_MS, as pm2's kill_timeout) and wait for it to exit. APP picks the
// worker (plain or careful), WORKERS how many. Prints JSON lines for the bench.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';

const KILL_MS = 1600;
const app = process.env.APP === 'careful' ? 'careful' : 'plain';
const count = Number(process.env.WORKERS ?? 2);

cluster.setupPrimary({ exec: fileURLToPath(new URL(`./${app}.js`, import.meta.url)) });

function fork(): Promise<Worker> {
  const t0 = performance.now();
  const w = cluster.fork();
  return new Promise((resolve, reject) => {
    w.once('listening', () => {
      // fork → 'listening', the moment node:cluster calls a worker ready.
      console.log(JSON.stringify({ event: 'ready', pid: w.process.pid, startupMs: performance.now() - t0 }));
      resolve(w);
    });
    w.once('exit', (code, signal) => reject(new Error(`worker exited (${signal ?? code}) before listening`)));
  });
}

function stop(w: Worker): Promise<void> {
  if (w.isDead()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => w.process.kill('SIGKILL'), KILL_MS);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    w.send('shutdown');
  });
}

const workers = await Promise.all(Array.from({ length: count }, fork));
console.log(JSON.stringify({ event: 'listening', workers: workers.map((w) => w.process.pid) }));

let restarting = false;
process.on('SIGUSR2', async () => {
  if (restarting) return;
  restarting = true;
  const t0 = Date.now();
  try {
    for (let i = 0; i < workers.length; i++) {
      const next = await fork();
      const old = workers[i]!;
      workers[i] = next;
      await stop(old);
    }
    console.log(JSON.stringify({ event: 'restart', ok: true, durationMs: Date.now() - t0 }));
  } catch (err) {
    console.log(JSON.stringify({ event: 'restart', ok: false, error: String(err) }));
  } finally {
    restarting = false;
  }
});

process.on('SIGTERM', async () => {
  await Promise.all(workers.map(stop));
  process.exit(0);
});
