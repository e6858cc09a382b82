// What the drain costs a request while no drain runs (issue #22: "nothing per request until a
// drain begins"): the server's own CPU per request, in a process of its own, with and without
// the drain installed, under the same keep-alive load from this process. Rounds alternate the
// two servers, so that a busy host weighs on both alike; the table gives the medians, and the
// median of each round's difference (steadier than the difference of the medians).
// `BENCH_ONLY=drain-cost npm run bench`, or `node dist/bench/drain-cost.js` after a build.
import { fork } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { WorkerDrains } from '../src/worker/worker-drains.js';
import { median } from './stats.js';
import { markdownTable, num } from './table.js';

const ROUNDS = Number(process.env.BENCH_DRAIN_ROUNDS ?? 5);
const REQUESTS = Number(process.env.BENCH_DRAIN_REQUESTS ?? 20_000);
const CONNECTIONS = 8;

type Mode = 'bare' | 'drain';
interface Usage {
  user: number;
  system: number;
}

/** The server side: a hello server, with the drain installed (never begun) or not. */
function serve(mode: Mode): void {
  const server = http.createServer((_req, res) => res.end('ok'));
  if (mode === 'drain') {
    new WorkerDrains({
      retire: new AbortController().signal,
      terminateTimeout: 30_000,
      upgradeGrace: 5_000,
    }).add(server);
  }
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
  process.on('message', (m) => {
    if (m === 'cpu') process.send?.(process.cpuUsage());
    if (m === 'stop') process.exit(0);
  });
}

interface Child {
  port: number;
  cpu(): Promise<Usage>;
  stop(): void;
}

function start(mode: Mode): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', mode], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: { port: number }) =>
      resolve({
        port: m.port,
        cpu: () => new Promise((r) => child.once('message', (u: Usage) => r(u)).send('cpu')),
        stop: () => child.send('stop'),
      }),
    );
  });
}

/** `n` GET requests over CONNECTIONS kept-alive connections. */
async function hammer(port: number, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let left = n;
  const loop = async (): Promise<void> => {
    while (left-- > 0) {
      await new Promise<void>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => res.resume().on('end', resolve))
          .on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  agent.destroy();
}

/** Server CPU µs per request, in one round of `mode`. */
async function round(mode: Mode): Promise<number> {
  const child = await start(mode);
  try {
    await hammer(child.port, REQUESTS / 4); // warm-up: JIT, connections
    const a = await child.cpu();
    await hammer(child.port, REQUESTS);
    const b = await child.cpu();
    return (b.user - a.user + (b.system - a.system)) / REQUESTS;
  } finally {
    child.stop();
  }
}

export async function drainCost(log: (msg: string) => void): Promise<string> {
  const us: Record<Mode, number[]> = { bare: [], drain: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of ['bare', 'drain'] as const) {
      log(`drain cost: round ${i + 1}/${ROUNDS}, ${mode}`);
      us[mode].push(await round(mode));
    }
  }
  const bare = median(us.bare);
  const paired = median(us.drain.map((d, i) => d - us.bare[i]!));
  const rows = (['bare', 'drain'] as const).map((mode) => [
    mode === 'bare' ? 'http server, no drain' : 'http server, drain installed (not draining)',
    num(median(us[mode]), 2),
    `${num(Math.min(...us[mode]), 1)}–${num(Math.max(...us[mode]), 1)}`,
    mode === 'bare' ? '' : `${num(paired, 2)} µs (${num((paired / bare) * 100, 1)} %)`,
  ]);
  return markdownTable(
    [
      `server CPU per request (${ROUNDS} rounds × ${REQUESTS} requests, ${CONNECTIONS} keep-alive connections)`,
      'median µs',
      'range',
      "over no drain (median of the rounds' differences)",
    ],
    rows,
  );
}

if (process.argv[2] === 'serve') serve(process.argv[3] as Mode);
else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await drainCost((m) => process.stderr.write(`[bench] ${m}\n`))}\n`);
}
