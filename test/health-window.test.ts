// The upgrade health window on its own: a crash inside it is the new version's failure.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { crashWithin } from '../src/master/upgrade-health-window.js';

const crash = { workerId: 3, pid: 1234, code: null, signal: 'SIGSEGV' };

test('a crash inside the window is ERR_OVERSEER_UPGRADE_UNHEALTHY, naming the worker and how it died', async () => {
  const events = new EventEmitter();
  const pending = crashWithin(events, 5_000, new AbortController().signal);
  events.emit('crash', crash);
  const err = await pending;
  assert.ok(err instanceof Error);
  assert.equal((err as NodeJS.ErrnoException).code, 'ERR_OVERSEER_UPGRADE_UNHEALTHY');
  assert.match(err.message, /^worker 3 died \(SIGSEGV\) \d+ ms after the new workers were ready$/);
  assert.equal(events.listenerCount('crash'), 0, 'the window stops listening once it is decided');
});

test("a window that passes or is 0 ms long is 'passed', one aborted is 'stopped', and each lets go", async () => {
  const events = new EventEmitter();
  assert.equal(await crashWithin(events, 20, new AbortController().signal), 'passed');
  events.emit('crash', crash); // after the window: none of its business
  const abort = new AbortController();
  const aborted = crashWithin(events, 60_000, abort.signal);
  abort.abort();
  assert.equal(await aborted, 'stopped');
  assert.equal(await crashWithin(events, 0, new AbortController().signal), 'passed');
  assert.equal(await crashWithin(events, 1_000, AbortSignal.abort()), 'stopped');
  assert.equal(
    await crashWithin(events, 0, AbortSignal.abort()),
    'passed',
    'no window: nothing to cut short',
  );
  assert.equal(events.listenerCount('crash'), 0);
});
