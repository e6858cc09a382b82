// The restart test every way in shares: three restarts under keep-alive load, 0 failed, and
// every old worker drained and gone well before terminateTimeout, with no warning.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Example } from './example.js';
import { describeErrors, type LoadResult, startLoad } from './load.js';

export async function restartsUnderLoad(e: Example, workers = 1, tls = false): Promise<LoadResult> {
  const port = await e.port();
  await e.settle(workers);
  const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000, tls });
  await sleep(300);
  for (let i = 0; i < 3; i++) {
    await e.restart();
    await e.settle(workers); // drained and gone: an undrained worker would linger 30 s
  }
  const r = await load.stop();
  assert.equal(r.failed, 0, describeErrors(r));
  assert.ok(r.ok > 200, `too little load got through (${r.ok})`);
  assert.deepEqual(
    e.stderr.filter((l) => /Warning/.test(l)),
    [],
    'no warnings (drain timeouts, kills, UnsupportedWarning)',
  );
  return r;
}
