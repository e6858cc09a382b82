// The master is long-lived: restarts must not leak its fds or grow its memory.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AppProcess } from './support/app.js';
import { fdCount, rssKiB, stopAll } from './support/process.js';

after(stopAll);

test('across 200 restarts the master does not leak fds, and its RSS stays bounded', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const a = new AppProcess({ overseer: { address: '127.0.0.1:0', terminateTimeout: 5_000 } });
  await a.nth('ready', 1);
  // Warm up, so lazily created handles (signal watchers, timers) exist before the baseline.
  for (let i = 0; i < 5; i++) assert.equal((await a.restart()).ok, true);
  await a.until(() => a.count('exit') >= 5, 10_000, 'warm-up exits');
  const fds0 = fdCount(a.pid);
  const rss0 = rssKiB(a.pid);
  for (let i = 0; i < 200; i++) assert.equal((await a.restart()).ok, true, `restart ${i}`);
  await a.until(() => a.count('exit') >= 205, 30_000, 'all old workers exited');
  const fds1 = fdCount(a.pid);
  const rss1 = rssKiB(a.pid);
  console.log(`master after 200 restarts: fds ${fds0} -> ${fds1}, RSS ${rss0} KiB -> ${rss1} KiB`);
  assert.equal(fds1, fds0, 'the master leaks fds');
  assert.ok(rss1 < rss0 + 30 * 1024, `RSS grew by ${rss1 - rss0} KiB`);
});
