// Restarts on a busy host (issue #20, row 14): while other processes keep every core busy,
// restarts under keep-alive load lose nothing. On a busy host a process waits for the CPU, and
// sometimes waits long: a client that gets no CPU for a while just as an old worker begins
// to drain has answers it has not read yet, and sends its next request on the same
// connection when it runs again. The drain must not take that silence for a client that is
// done (a connection it closes as idle resets the request the client then sends: the
// ECONNRESET × 12 of a full suite run). The stalls here are made the way a busy host makes
// them, but on cue: the process is stopped (SIGSTOP) for a bounded time, then continued.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppProcess } from './support/app.js';
import { burnCpu } from './support/cpu-burners.js';
import { fixture } from './support/paths.js';
import { node, stopAll } from './support/process.js';

after(stopAll);

/** Sends `sig` to each of `pids` that still runs. */
function signal(pids: readonly number[], sig: 'SIGSTOP' | 'SIGCONT'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * `restarts` restarts of a program that takes 300 ms to become ready, under keep-alive load
 * from a client process, while burners keep every core busy. As each old worker begins to
 * drain (its successor is ready), the client stalls for `ms`; with `wholeHost`, the old worker
 * stalls too, from the moment it says its drain has begun (its debug log) to the client's end,
 * and runs again first: the worst order for the drain.
 */
async function restartsOnABusyHost(opts: {
  restarts: number;
  ms: number;
  wholeHost: boolean;
}): Promise<void> {
  const burners = await burnCpu({ maxMs: 120_000 });
  try {
    const env = opts.wholeHost ? { NODE_DEBUG: 'overseer' } : {};
    const a = new AppProcess({ overseer: { address: '127.0.0.1:0' }, readyDelayMs: 300 }, { env });
    const port = await a.port();
    await a.nth('ready', 1);
    const load = { port, concurrency: 16, keepAlive: true, maxMs: 120_000, maxRequests: 2_000_000 };
    const client = node(fixture('load-client.js'), [], {
      env: { LOAD: JSON.stringify(load) },
      label: 'load',
    });
    await client.nth('started', 1);
    await sleep(300);
    /** How long each stall lasted, as the test could make it on this host. */
    const stalls: number[] = [];
    for (let i = 0; i < opts.restarts; i++) {
      const ready = a.count('ready');
      const oldWorker = Number(a.events.filter((e) => e.event === 'ready').at(-1)!.pid);
      const from = a.stderr.length;
      a.signal('SIGUSR2');
      await a.nth('ready', ready + 1, 30_000); // the master drains the old worker now
      const stalled = [client.pid];
      const stoppedAt = Date.now();
      signal(stalled, 'SIGSTOP');
      try {
        const ends = Date.now() + opts.ms;
        if (opts.wholeHost) {
          const begun = `OVERSEER ${oldWorker}: drain:`;
          await a.until(() => a.stderr.slice(from).some((l) => l.startsWith(begun)), 10_000, 'the drain');
          stalled.unshift(oldWorker);
          signal([oldWorker], 'SIGSTOP');
        }
        await sleep(Math.max(0, ends - Date.now()));
      } finally {
        signal(stalled, 'SIGCONT');
        stalls.push(Date.now() - stoppedAt);
      }
      const r = await a.nth('restart', i + 1, 30_000);
      assert.equal(r.ok, true, `restart ${i + 1}: ${JSON.stringify(r)}`);
    }
    await sleep(300);
    client.signal('SIGTERM');
    const r = await client.nth('result', 1, 30_000);
    console.log(
      `busy host (${opts.ms} ms stalls, as made: ${stalls.join(', ')} ms): ${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.errors)}`,
    );
    assert.equal(r.failed, 0, `failed requests: ${JSON.stringify(r.errors)}`);
    assert.ok(Number(r.ok) > 100, `too little load got through (${r.ok})`);
    assert.ok((r.pids as string[]).length >= 2, 'answers came from more than one worker');
    assert.deepEqual(
      a.stderr.filter((l) => /Warning/.test(l)),
      [],
      'no warnings (drain timeouts, kills)',
    );
    assert.equal((await a.stop()).code, 0);
  } finally {
    await burners.stop();
  }
}

test('busy host: the client stalls 400 ms as each old worker begins to drain; 8 restarts lose nothing', async () => {
  await restartsOnABusyHost({ restarts: 8, ms: 400, wholeHost: false });
});

test('busy host: the whole host stalls 1.5 s (the client, and the old worker once its drain has begun); 4 restarts lose nothing', async () => {
  await restartsOnABusyHost({ restarts: 4, ms: 1_500, wholeHost: true });
});
