// An app's own shutdown code runs under overseer as it runs without it (issue #21, row 2): a
// `server.close(cb)` in its SIGTERM handler, after the drain closed the listener, gets no error,
// and the server's 'close' fires once. Every retired worker exits 0 and prints nothing.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopAll } from './support/process.js';
import { restartsUnderLoad } from './support/restarts.js';
import { Run } from './support/run.js';

after(stopAll);

test('`server.close((err) => process.exit(err ? 1 : 0))` on SIGTERM under `overseer run -w 2`: 3 restarts, every retired worker exits 0, nothing on stderr', async () => {
  const r = new Run('close-cb.cjs', ['-w', '2'], { PORT: '0' });
  await restartsUnderLoad(r, { workers: 2 });
  // A retired worker's last line comes through the master's relay of its output, which can be a
  // moment behind the restart's answer on the control socket (CI saw 5 of 6 on Node 24).
  const exitLines = () => r.lines.filter((l) => l.startsWith('exit '));
  for (let i = 0; i < 100 && exitLines().length < 6; i++) await sleep(50);
  const exits = exitLines();
  assert.equal(exits.length, 6, `every retired worker says how it ended: ${JSON.stringify(exits)}`);
  for (const line of exits) assert.match(line, /^exit \d+ code 0 closes 1$/);
  // Nothing but the master's own line at its start (its pid).
  assert.deepEqual(
    r.stderr.filter((l) => !l.startsWith('overseer run: the master is pid')),
    [],
  );
  assert.equal((await r.stop()).code, 0);
});
