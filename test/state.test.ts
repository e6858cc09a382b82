// State as a program sees it: listeners a framework may write to, and `drained`.
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { makeState } from '../src/worker/state.js';
import { drainWhatListensOn, WorkerDrains } from '../src/worker/worker-drains.js';

function state(signal: AbortSignal) {
  const listeners = [{ host: '127.0.0.1', port: 0, address: '127.0.0.1:0' }];
  const drains = new WorkerDrains({ retire: signal, terminateTimeout: 2_000, upgradeGrace: 500 });
  drainWhatListensOn(listeners, drains);
  const s = makeState({
    enabled: true,
    id: 'x',
    workerId: 1,
    listeners,
    gracefulShutdown: signal,
    binPath: '',
    ipcPath: '',
    drains,
  });
  return s;
}

test('each read of state.listener is a fresh object a framework may write to', () => {
  const s = state(new AbortController().signal);
  const a = s.listener!;
  a.host = '0.0.0.0'; // Fastify writes its defaults into the options it is given
  assert.equal(s.listener?.host, '127.0.0.1', 'what one caller wrote is not seen by the next');
  assert.notEqual(s.listener, s.listener);
  assert.equal(Object.isFrozen(s), true, 'State itself stays read-only');
  s.listeners[0]!.port = 9;
  assert.equal(s.listeners[0]!.port, 0);
});

test('a server that listens on a listener by itself drains too, and state.drained waits for it', async () => {
  const controller = new AbortController();
  const s = state(controller.signal);
  const server = http.createServer((_req, res) => setTimeout(() => res.end('ok'), 300));
  await new Promise<void>((r) => server.listen(s.listener, r)); // not state.serve()
  const port = (server.address() as net.AddressInfo).port;
  const arrived = new Promise((r) => server.once('request', r));
  const response = fetch(`http://127.0.0.1:${port}/`).then(
    (r) => [r.headers.get('connection'), r.text()] as const,
  );
  // In flight means the server has it: a connection still in the accept queue when the only
  // socket closes is refused, which is what the master's kept socket exists to prevent.
  await arrived;
  let drained = false;
  void s.drained.then(() => (drained = true));
  controller.abort();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(drained, false, 'not while a request is in flight');
  const [connection, body] = await response;
  // Answered, its connection kept: a request may be queued behind it (pipelined), which a
  // `close` would drop. The quiet connection is closed once idle, and then the server is.
  assert.equal(await body, 'ok');
  assert.equal(connection, 'keep-alive');
  await s.drained;
  assert.equal(server.listening, false);
});

test('serve() with a listener that is not one of state.listeners: coded, and nothing of it stays', async () => {
  const retire = new AbortController();
  const s = state(retire.signal);
  for (const bad of [5, { port: 1 }, null])
    await assert.rejects(s.serve(http.createServer(), bad as never), {
      code: 'ERR_OVERSEER_NO_LISTENER',
      message: /^state\.serve\(\): the listener must be one of state\.listeners/,
    });
  // The configured listener is still free, and the drain does not wait on a server that never listened.
  const server = await s.serve(http.createServer());
  assert.equal(server.listening, true);
  retire.abort();
  await s.drained;
  assert.equal(server.listening, false);
});
