// systemd's FD store (FDSTORE=1): the master pushes the sockets it bound to systemd, so a
// master that crashes (SIGKILL here) and is restarted by systemd gets them back in LISTEN_FDS,
// and the kernel keeps every connection that arrives meanwhile in their queue. systemd is
// played by test/support/fixtures/fake-systemd.py (Node cannot receive fds on a datagram socket).
// `overseer run` stores the sockets of the app's own listens too, and takes one out of the store
// once no worker serves it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { APP } from './support/app.js';
import { get } from './support/http.js';
import { CLI, fixture } from './support/paths.js';
import { stopAll, TestProcess } from './support/process.js';

const hasPython =
  spawnSync('python3', ['-c', 'import socket; socket.SCM_RIGHTS'], { timeout: 10_000 }).status === 0;
const skip = process.platform !== 'linux' ? 'Linux only' : !hasPython && 'needs python3';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-fdstore-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a master that crashes gets its sockets back from the FD store; connections made meanwhile are served, none refused', {
  skip,
}, async () => {
  const notify = path.join(tmp, 'notify.sock');
  const systemd = new TestProcess('python3', [fixture('fake-systemd.py'), notify, process.execPath, APP], {
    env: { APP: JSON.stringify({ overseer: { address: '127.0.0.1:0', workers: 2 } }) },
    label: 'systemd',
  });
  const lines = systemd.lines;
  const until = <T>(find: () => T | undefined, what: string): Promise<T> => systemd.until(find, 20_000, what);
  try {
    const first = await until(() => lines.find((l) => l.startsWith('READY=1 MAINPID=')), 'READY=1');
    const masterPid = Number(/MAINPID=(\d+)/.exec(first)![1]);
    assert.ok(lines.includes('stored overseer.127.0.0.1%3A0'), `the socket was stored: ${lines.join(' | ')}`);
    const listening = JSON.parse(lines.find((l) => l.includes('"event":"listening"'))!) as {
      addresses: string[];
    };
    const port = Number(listening.addresses[0]!.split(':').at(-1));
    const before = await get(port);
    assert.equal(before.status, 200);

    process.kill(masterPid, 'SIGKILL'); // a crash: no cleanup, no drain
    await until(() => lines.find((l) => l.startsWith(`exited ${masterPid}`)), 'the exit');
    // No master runs now (for RestartSec): new connections wait in the stored socket's queue.
    const meanwhile = await Promise.all(Array.from({ length: 5 }, () => get(port)));
    for (const r of meanwhile) assert.equal(r.status, 200);
    await until(
      () => lines.find((l) => l.startsWith('READY=1 MAINPID=') && !l.includes(`MAINPID=${masterPid} `)),
      'the second READY=1',
    );
    assert.match(lines.find((l) => l.startsWith('started') && l.includes('with 1 fds')) ?? '', /with 1 fds/);
    const again = JSON.parse(lines.filter((l) => l.includes('"event":"listening"')).at(-1)!) as {
      addresses: string[];
    };
    assert.deepEqual(again.addresses, listening.addresses, 'the same port, from the store');
    assert.ok(!meanwhile.some((r) => r.pid === before.pid), 'served by the new master’s workers');
    assert.equal(
      lines.filter((l) => l.startsWith('stored ')).length,
      1,
      'a socket from the store is not stored twice',
    );
  } finally {
    await systemd.stop();
  }
});

test('overseer run: each routed socket is stored, and leaves the store once no worker serves it', {
  skip,
}, async () => {
  const notify = path.join(tmp, 'notify-run.sock');
  const control = path.join(tmp, 'run.sock');
  const app = fixture('run/lazy.cjs');
  const systemd = new TestProcess(
    'python3',
    [fixture('fake-systemd.py'), notify, process.execPath, CLI, 'run', '--ipc-path', control, app],
    { env: { PORT: '0' }, label: 'systemd' },
  );
  const lines = systemd.lines;
  const until = <T>(find: () => T | undefined, what: string): Promise<T> => systemd.until(find, 20_000, what);
  const stored = (key: string): string => `overseer-route.${encodeURIComponent(key)}`;
  try {
    await until(() => lines.find((l) => l.startsWith('READY=1 MAINPID=')), 'READY=1');
    const listening = await until(() => lines.find((l) => l.startsWith('listening on')), 'the app listening');
    const port = Number(listening.split(':').at(-1));
    await until(() => lines.includes(`stored ${stored('tcp:127.0.0.1:0#0')}`), 'the main port stored');
    await get(port, '/open'); // a port on first use
    await until(() => lines.includes(`stored ${stored('tcp:127.0.0.1:0#1')}`), 'the second port stored');
    await get(port, '/close');
    await until(() => lines.includes(`removed ${stored('tcp:127.0.0.1:0#1')}`), 'the second port removed');
    assert.ok(!lines.some((l) => l.startsWith('removed') && l.includes('%230')), 'the main port stays');
    assert.equal((await get(port)).status, 200);
  } finally {
    await systemd.stop();
  }
});
