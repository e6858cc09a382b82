// The master as PID 1 (a container's init, here a new pid namespace: `unshare --pid --fork`):
// it reaps the orphans its workers leave behind, which the kernel hands to PID 1, and it
// still hears its signals (a PID 1 ignores any signal it has no handler for).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { APP } from './helpers/app.js';
import { describeErrors, startLoad } from './helpers/load.js';
import { childrenOf, PID_NAMESPACE, unshareSkip } from './helpers/pid-namespace.js';

const skip = unshareSkip;
const started: number[] = [];
after(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});

const stat = (pid: number): { comm: string; state: string } | undefined => {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), state: s[s.lastIndexOf(')') + 2]! };
  } catch {
    return undefined;
  }
};

test('as PID 1 the master reaps the orphans it inherits, restarts under load and stops on SIGTERM', {
  skip,
}, async () => {
  const unshare = spawn(PID_NAMESPACE[0], [...PID_NAMESPACE.slice(1), process.execPath, APP], {
    env: {
      ...process.env,
      APP: JSON.stringify({ overseer: { address: '127.0.0.1:0', workers: 2 }, orphans: 3 }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(unshare.pid!);
  let out = '';
  unshare.stdout.on('data', (d: Buffer) => {
    out += d;
  });
  for (let i = 0; i < 300 && (out.match(/"event":"ready"/g) ?? []).length < 2; i++) await sleep(50);
  const [master] = childrenOf(unshare.pid!); // the master: PID 1 inside, this pid outside
  assert.ok(master, 'the master runs');
  started.push(master);
  // The orphans are the master's children now (PID 1 inherits them) …
  let adopted = 0;
  for (let i = 0; i < 40 && adopted === 0; i++) {
    adopted = childrenOf(master).filter((p) => stat(p)?.comm === 'sleep').length;
    await sleep(10);
  }
  assert.ok(adopted > 0, 'the orphaned sleeps were handed to PID 1');
  // … and once they exit, none of them stays a zombie.
  await sleep(1_200);
  const zombies = childrenOf(master).filter((p) => stat(p)?.state === 'Z');
  assert.deepEqual(
    zombies.map((p) => stat(p)?.comm),
    [],
    'no zombie left',
  );

  const listening = JSON.parse(out.split('\n').find((l) => l.includes('"event":"listening"'))!) as {
    addresses: string[];
  };
  const port = Number(listening.addresses[0]!.split(':').at(-1));
  const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 30_000 });
  await sleep(200);
  process.kill(master, 'SIGUSR2'); // heard: the master handles it
  for (let i = 0; i < 200 && !out.includes('"event":"restart"'); i++) await sleep(50);
  assert.match(out, /"event":"restart","ok":true/);
  const result = await load.stop();
  assert.equal(result.failed, 0, describeErrors(result));
  await sleep(1_200); // the restart's new workers left orphans too
  assert.deepEqual(
    childrenOf(master).filter((p) => stat(p)?.state === 'Z'),
    [],
  );

  process.kill(master, 'SIGTERM');
  const code = await new Promise<number | null>((resolve) => unshare.once('exit', (c) => resolve(c)));
  assert.equal(code, 0, 'a graceful stop as PID 1');
});
