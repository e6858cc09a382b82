// overseer/testing, used as a program's own tests would use it: a real State, a real drain.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { createTestState } from 'overseer/testing';
import { get } from './support/http.js';

test('a program tested with a real State: it serves, and on shutdown drains an in-flight request', async () => {
  const t = await createTestState();
  const server = http.createServer((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow done'), 200);
    else res.end(`hello from ${t.state.workerId}`);
  });
  const closed = new Promise((r) => server.once('close', r));
  await t.state.serve(server);
  assert.match(t.state.address, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(t.state.address, '127.0.0.1:0', 'the real port, as a worker sees it');
  const port = Number(t.state.address.split(':')[1]);
  const agent = new http.Agent({ keepAlive: true });
  assert.equal((await get(port, { agent })).body, 'hello from 1');
  const slow = get(port, { agent, path: '/slow' });
  await new Promise((r) => setTimeout(r, 50));
  t.shutdown();
  // Retired: the drain has begun, and the program hears gracefulShutdown once its HTTP
  // clients are off (the keep-alive one here is closed once idle after its answer).
  assert.equal(t.state.gracefulShutdown.aborted, false, 'not while a request is in flight');
  const r = await slow;
  if (!t.state.gracefulShutdown.aborted) {
    await new Promise((resolve) => t.state.gracefulShutdown.addEventListener('abort', resolve));
  }
  assert.equal(r.body, 'slow done');
  assert.equal(
    r.headers.connection,
    'keep-alive',
    'in flight as the drain began: its connection closes once idle',
  );
  await closed;
  agent.destroy();
  t.close();
});

test('several addresses, each a listener of its own', async () => {
  const t = await createTestState({ addresses: ['127.0.0.1:0', '127.0.0.1:0'], workerId: 7 });
  assert.equal(t.state.listeners.length, 2);
  assert.notEqual(t.state.addresses[0], t.state.addresses[1]);
  assert.equal(t.state.workerId, 7);
  t.close();
});

test("createTestState's options are checked as run()'s are: a coded error names the option", async () => {
  const bad = async (options: unknown, message: RegExp): Promise<void> => {
    await assert.rejects(createTestState(options as never), { code: 'ERR_OVERSEER_INVALID_CONFIG', message });
  };
  await bad(5, /^overseer\/testing: options must be an object/);
  await bad({ bogus: 1 }, /^overseer\/testing: options\.bogus is not a known option/);
  await bad({ addresses: 'x' }, /^overseer\/testing: options\.addresses must be a non-empty array/);
  await bad({ addresses: ['nope'] }, /^overseer\/testing: options\.addresses\[0\]/);
  await bad(
    { terminateTimeout: -1 },
    /^overseer\/testing: options\.terminateTimeout must be a number of milliseconds/,
  );
  await bad({ upgradeGrace: 'x' }, /options\.upgradeGrace/);
  await bad({ workerId: 'x' }, /^overseer\/testing: options\.workerId must be an integer/);
  await bad({ id: 7 }, /^overseer\/testing: options\.id must be a non-empty string/);
});
