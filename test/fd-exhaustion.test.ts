// The master out of file descriptors (issue #20, row 10): under `ulimit -n 64`, 300 control
// connections take every fd the master has. Whatever then needs one (a worker's start, a
// routed listen, an accept on the control socket) fails alone: a warning and an 'error'
// event, never a crash; and once the connections go, the master recovers by itself.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { ControlSocket } from '../src/control/control-socket.js';
import { freePort, get } from './support/http.js';
import { CLI, fixture } from './support/paths.js';
import { eventually, rssKiB, stopAll, TestProcess } from './support/process.js';

const LIMIT = 64;
const skip = process.platform === 'linux' ? false : 'fd limits and /proc: Linux';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-fds-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

let masters = 0;

/** `overseer run <script>` with at most LIMIT fds, its control socket in tmp. */
function limitedMaster(script: string, env: NodeJS.ProcessEnv = {}): { master: TestProcess; socket: string } {
  const socket = path.join(tmp, `m${++masters}.sock`);
  const master = new TestProcess(
    'sh',
    [
      '-c',
      `ulimit -n ${LIMIT} && exec "$0" "$@"`,
      process.execPath,
      CLI,
      'run',
      '--ipc-path',
      socket,
      script,
    ],
    { env: { PORT: '0', ...env }, label: 'master' },
  );
  return { master, socket };
}

const fdCount = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

/** Opens `n` connections to the control socket and holds them; resolves once the master has no fd left. */
async function exhaust(master: TestProcess, socket: string, n = 300): Promise<net.Socket[]> {
  const held: net.Socket[] = [];
  for (let i = 0; i < n; i++) {
    const c = net.connect(socket);
    c.on('error', () => {});
    held.push(c);
  }
  const deadline = Date.now() + 10_000;
  while (fdCount(master.pid) < LIMIT - 1) {
    if (Date.now() > deadline) {
      throw new Error(
        `the master holds only ${fdCount(master.pid)} fds; stderr: ${master.stderr.join(' | ')}`,
      );
    }
    await sleep(20);
  }
  return held;
}

async function status(socket: string): Promise<{ workers: { state: string }[] }> {
  return (await ipcRequest(socket, 'GET', '/overseer/status', 5_000)).body as {
    workers: { state: string }[];
  };
}

const outOfFds = (m: TestProcess): string[] =>
  m.stderr.filter((l) => l.includes('OVERSEER_FD_EXHAUSTED') && l.includes('out of file descriptors'));

describe('out of fds', { skip }, () => {
  test('a worker that cannot be started is retried, a restart fails, the master lives and recovers', async () => {
    const { master, socket } = limitedMaster(fixture('run/app.cjs'));
    const port = Number((await master.line(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    assert.equal((await get(port)).status, 200);
    const held = await exhaust(master, socket);
    const during = { rssKiB: rssKiB(master.pid), fds: fdCount(master.pid) };
    // A crash: its replacement cannot be started (spawn EMFILE), and is retried with backoff.
    const [worker] = master.workers();
    process.kill(worker!, 'SIGKILL');
    await master.until(() => outOfFds(master).length > 0, 10_000, 'the warning');
    assert.match(outOfFds(master)[0]!, /worker \d+ could not be started/);
    // A restart: it fails, as any failed start does, and says why.
    master.signal('SIGUSR2');
    await master.until(
      () => master.stderr.some((l) => /restart failed.*could not be started: spawn .*EMFILE/.test(l)),
      10_000,
      'the failed restart',
    );
    await sleep(500);
    assert.ok(master.alive, `the master died: ${master.stderr.join('\n')}`);
    console.log(
      `under ${held.length} control connections: master RSS ${during.rssKiB} KiB, ${during.fds} fds (limit ${LIMIT})`,
    );
    // The connections go; the master starts a worker by itself and serves again.
    for (const c of held) c.destroy();
    const answer = await eventually(() => get(port, { timeoutMs: 1_000 }), 20_000, 'an answer again');
    assert.equal(answer.status, 200);
    const s = await status(socket);
    assert.equal(s.workers.filter((w) => w.state === 'ready').length, 1);
    const restarted = (await ipcRequest(socket, 'POST', '/overseer/restart', 30_000)).body as { ok: boolean };
    assert.equal(restarted.ok, true, JSON.stringify(restarted));
    assert.equal((await get(port)).status, 200);
    assert.ok(fdCount(master.pid) < 40, `the master still holds ${fdCount(master.pid)} fds`);
    await master.stop();
  });

  test('a routed listen that cannot get a socket fails in the app (EMFILE), not in the master', async () => {
    const latePort = await freePort();
    const { master, socket } = limitedMaster(fixture('run/late-listen.cjs'), {
      LATE_PORT: String(latePort),
      LATE_MS: '2000',
    });
    await master.line(/listening on 127\.0\.0\.1:\d+/);
    const held = await exhaust(master, socket);
    await master.line(/^late listen failed: EMFILE$/, 0, 10_000);
    await master.until(() => outOfFds(master).length > 0, 5_000, 'the warning');
    // Made: no fd for the socket. Sent: an fd came free for the socket (the master's fds churn
    // as it accepts and closes), but none for the copy that goes to the worker.
    assert.match(
      outOfFds(master)[0]!,
      /the socket for a worker's listen on tcp:127\.0\.0\.1:\d+ could not be (made|sent)/,
    );
    assert.ok(master.alive);
    for (const c of held) c.destroy();
    // The next worker's late listen gets its socket.
    await eventually(() => status(socket), 10_000, 'the status');
    const restarted = (await ipcRequest(socket, 'POST', '/overseer/restart', 30_000)).body as { ok: boolean };
    assert.equal(restarted.ok, true, JSON.stringify(restarted));
    await master.line(/^late listening$/, 0, 10_000);
    assert.match((await get(latePort)).body, /^late \d+/);
    await master.stop();
  });
});

describe('the control socket when an accept fails', { skip }, () => {
  test('it stops accepting, says so, keeps what connects meanwhile queued, and accepts again', async () => {
    const target = {
      events: new (await import('node:events')).EventEmitter(),
      status: () => ({ ok: true }),
      restart: async () => ({ ok: true, reason: 'test', durationMs: 0, replaced: 0 }),
      triggerUpdate: async () => ({}),
      metrics: () => '',
      countDroppedEvents: () => {},
    };
    const errors: Error[] = [];
    const control = await ControlSocket.open(target as never, {
      name: 'accept-test',
      path: path.join(tmp, 'accept.sock'),
      onAcceptError: (err) => errors.push(err),
    });
    try {
      const server = (control as unknown as { server: net.Server }).server;
      // What libuv reports when its own spare fd is gone too: every accept fails, at once.
      const emfile = Object.assign(new Error('accept EMFILE'), {
        code: 'EMFILE',
        errno: -24,
        syscall: 'accept',
      });
      server.emit('error', emfile);
      server.emit('error', emfile); // again, in the same turn: one pause
      assert.deepEqual(errors, [emfile]);
      assert.equal(server.listening, false);
      // A client that connects now waits in the queue of the socket, which stays open.
      const answer = ipcRequest(control.path, 'GET', '/overseer/status', 5_000);
      assert.deepEqual((await answer).body, { ok: true });
      assert.equal(server.listening, true);
      assert.equal(control.fd !== undefined && control.fd >= 0, true, 'a handoff still has its fd');
    } finally {
      control.close();
    }
    assert.equal(fs.existsSync(path.join(tmp, 'accept.sock')), false);
  });
});
