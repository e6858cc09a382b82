// systemd's FD store (FDSTORE=1): the master pushes the sockets it bound to systemd, so a
// master that crashes (SIGKILL here) and is restarted by systemd gets them back in LISTEN_FDS,
// and the kernel keeps every connection that arrives meanwhile in their queue. systemd is
// played by test/fixtures/fake-systemd.py (Node cannot receive fds on a datagram socket).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { APP } from './helpers/app.js';

const hasPython =
  spawnSync('python3', ['-c', 'import socket; socket.SCM_RIGHTS'], { timeout: 10_000 }).status === 0;
const skip = process.platform !== 'linux' ? 'Linux only' : !hasPython && 'needs python3';
const FAKE = fileURLToPath(new URL('../../test/fixtures/fake-systemd.py', import.meta.url));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-fdstore-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function get(port: number): Promise<{ status: number; pid: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false, timeout: 15_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, pid: String(res.headers['x-pid']) }));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('timeout'));
      });
  });
}

test('a master that crashes gets its sockets back from the FD store; connections made meanwhile are served, none refused', {
  skip,
}, async () => {
  const notify = path.join(tmp, 'notify.sock');
  const systemd = spawn('python3', [FAKE, notify, process.execPath, APP], {
    env: { ...process.env, APP: JSON.stringify({ overseer: { address: '127.0.0.1:0', workers: 2 } }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  readline.createInterface({ input: systemd.stdout }).on('line', (l) => lines.push(l));
  const until = async <T>(find: () => T | undefined, what: string, ms = 20_000): Promise<T> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = find();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`no ${what}: ${lines.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
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
    systemd.kill('SIGTERM');
    await new Promise((r) => systemd.once('exit', r));
  }
});
