// sticky: 'ip': with reusePort on Linux, a BPF program on the slot sockets steers each client
// address to one worker; the master never accepts.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { resolveConfig } from '../src/config.js';
import { AppProcess } from './support/app.js';
import { get } from './support/http.js';
import { stopAll } from './support/process.js';

after(stopAll);

/** The worker pid that answers a new connection from `from`. */
async function pidFrom(port: number, from: string): Promise<string> {
  return (await get(port, { localAddress: from })).pid;
}

test('each client address always lands on the same worker, and the addresses spread', {
  skip: process.platform !== 'linux' && 'SO_ATTACH_REUSEPORT_CBPF is Linux-only',
}, async () => {
  const a = new AppProcess({
    overseer: { address: '127.0.0.1:0', workers: 2, reusePort: true, sticky: 'ip' },
  });
  const port = await a.port();
  await a.nth('ready', 2);
  const byAddress = new Map<string, Set<string>>();
  for (let i = 1; i <= 8; i++) {
    const from = `127.0.0.${i}`;
    const pids = new Set<string>();
    for (let j = 0; j < 12; j++) pids.add(await pidFrom(port, from));
    byAddress.set(from, pids);
  }
  for (const [from, pids] of byAddress) assert.equal(pids.size, 1, `${from} reached ${[...pids].join(', ')}`);
  const workers = new Set([...byAddress.values()].map((p) => [...p][0]));
  assert.equal(workers.size, 2, 'eight addresses spread over both workers');
  // Without sticky, one address reaches both workers.
  const b = new AppProcess({ overseer: { address: '127.0.0.1:0', workers: 2, reusePort: true } });
  const bport = await b.port();
  await b.nth('ready', 2);
  const spread = new Set<string>();
  for (let j = 0; j < 40 && spread.size < 2; j++) spread.add(await pidFrom(bport, '127.0.0.1'));
  assert.equal(spread.size, 2);
});

test('sticky needs reusePort, and takes only ip', () => {
  const program = (): void => {};
  assert.throws(() => resolveConfig({ program, sticky: 'ip' }), /config\.sticky needs reusePort/);
  assert.throws(
    () => resolveConfig({ program, reusePort: true, sticky: 'cookie' }),
    /config\.sticky must be 'ip'/,
  );
});
