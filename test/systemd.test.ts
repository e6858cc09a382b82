// systemd's notify protocol: READY=1 when the workers are ready, RELOADING=1 and READY=1
// around a restart, STOPPING=1 on shutdown; workers never see NOTIFY_SOCKET.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ipcRequest } from '../src/control/client.js';
import { native } from '../src/os/native.js';
import { AppProcess } from './support/app.js';
import { childrenOf, signalAll, stopAll, TestProcess } from './support/process.js';

const hasPython =
  spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { timeout: 10_000 }).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-systemd-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Node cannot receive unix datagrams; a small python3 program plays systemd.
const SYSTEMD = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
print('ready', flush=True)
while True:
    print(s.recv(65536).decode().replace('\\n', ' '), flush=True)
`;

/** The python stand-in for systemd on `sock`, and a wait on the lines it prints. */
async function fakeSystemd(sock: string) {
  const systemd = new TestProcess('python3', ['-c', SYSTEMD, sock], { label: 'systemd' });
  const until = (pred: () => boolean, what: string) => systemd.until(pred, 15_000, what);
  await until(() => systemd.lines[0] === 'ready', 'receiver');
  return { systemd, lines: systemd.lines, until };
}

test('the master speaks sd_notify for the service', { skip: !hasPython && 'needs python3' }, async () => {
  const sock = path.join(tmp, 'notify.sock');
  const { systemd, lines, until } = await fakeSystemd(sock);
  try {
    const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
    const app = new AppProcess(
      { overseer: { address: '127.0.0.1:0', workers: 2 }, stateDir },
      { env: { NOTIFY_SOCKET: sock } },
    );
    await until(() => lines.some((l) => l.startsWith('READY=1')), 'READY=1');
    assert.match(lines[1]!, new RegExp(`^READY=1 MAINPID=${app.pid} STATUS=2 worker\\(s\\) ready`));
    await app.restart();
    await until(() => lines.filter((l) => l.startsWith('READY=1')).length === 2, 'READY=1 after the restart');
    assert.match(lines[2]!, /^RELOADING=1 MONOTONIC_USEC=\d+$/);
    assert.match(lines[3]!, /^READY=1 .*STATUS=restarted in \d+ ms/);
    await app.stop();
    await until(() => lines.includes('STOPPING=1'), 'STOPPING=1');
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'worker-1.json'), 'utf8'));
    assert.equal(state.env.NOTIFY_SOCKET, undefined, 'a worker saw NOTIFY_SOCKET');
  } finally {
    systemd.kill();
  }
});

test('WATCHDOG=1 at half of WATCHDOG_USEC; after a handoff the new master says READY=1 with its MAINPID, and the old one never says STOPPING=1', {
  skip: (!hasPython && 'needs python3') || (process.platform === 'win32' && 'POSIX only'),
}, async () => {
  const sock = path.join(tmp, 'notify2.sock');
  const ipc = path.join(tmp, 'ctl2.sock');
  const { systemd, lines, until } = await fakeSystemd(sock);
  let newMaster = 0;
  try {
    const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
    const app = new AppProcess(
      { overseer: { address: '127.0.0.1:0', ipcPath: ipc }, stateDir },
      { env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '400000' } },
    );
    const watchdogs = (): number[] =>
      lines.flatMap((l, i) => (l === 'WATCHDOG=1' ? [systemd.lineTimes[i]!] : []));
    await until(() => watchdogs().length >= 6, 'six WATCHDOG=1');
    // The first at start, then one every 200 ms (half of 400 ms); every 400 ms would be too late.
    const gaps = watchdogs()
      .slice(1)
      .map((t, i) => t - watchdogs()[i]!)
      .sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)]!;
    assert.ok(median >= 100 && median <= 320, `WATCHDOG=1 every ${median} ms (gaps ${gaps.join(', ')})`);
    await until(() => lines.some((l) => l.startsWith('READY=1')), 'READY=1');
    const r = (await ipcRequest(ipc, 'POST', '/overseer/reexec', 30_000)).body as {
      ok: boolean;
      pid: number;
    };
    assert.equal(r.ok, true, JSON.stringify(r));
    newMaster = r.pid;
    await until(
      () => lines.some((l) => l.startsWith(`READY=1 MAINPID=${newMaster} `)),
      "the new master's READY=1",
    );
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    assert.ok(!lines.includes('STOPPING=1'), `the old master stopped the service: ${JSON.stringify(lines)}`);
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'worker-1.json'), 'utf8'));
    assert.equal(state.env.WATCHDOG_USEC, undefined, 'a worker saw WATCHDOG_USEC');
    process.kill(newMaster, 'SIGTERM');
    await until(() => lines.includes('STOPPING=1'), "the new master's STOPPING=1");
  } finally {
    systemd.kill();
    if (newMaster) signalAll([newMaster], 'SIGKILL');
  }
});

test('a new master says READY=1 with its MAINPID only once the old master has committed', {
  skip: (!hasPython && 'needs python3') || (process.platform !== 'linux' && 'Linux (/proc)'),
}, async () => {
  const sock = path.join(tmp, 'notify4.sock');
  const ipc = path.join(tmp, 'ctl4.sock');
  const hang = path.join(tmp, 'hang4');
  const { systemd, lines, until } = await fakeSystemd(sock);
  let newMaster = 0;
  try {
    const app = new AppProcess(
      { overseer: { address: '127.0.0.1:0', ipcPath: ipc, readyTimeout: 30_000 }, hangFlag: hang },
      { env: { NOTIFY_SOCKET: sock } },
    );
    await until(() => lines.some((l) => l.startsWith('READY=1')), 'READY=1');
    fs.writeFileSync(hang, ''); // the new master's first worker hangs: the fds have passed, no commit yet
    const answer = ipcRequest(ipc, 'POST', '/overseer/reexec', 60_000);
    const hung = await app.until(
      () => {
        const [child] = childrenOf(app.pid).filter((c) => childrenOf(c).length > 0);
        const [worker] = child === undefined ? [] : childrenOf(child);
        return child !== undefined && worker !== undefined ? { child, worker } : undefined;
      },
      10_000,
      "the new master's worker",
    );
    newMaster = hung.child;
    // The old master cannot commit now; the new master's next worker becomes ready.
    app.signal('SIGSTOP');
    try {
      fs.rmSync(hang);
      process.kill(hung.worker, 'SIGKILL');
      await app.until(() => app.count('ready') >= 2 || undefined, 15_000, "the new master's ready worker");
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(
        !lines.some((l) => l.includes(`MAINPID=${newMaster}`)),
        `the new master claimed the service before the commit: ${JSON.stringify(lines)}`,
      );
    } finally {
      app.signal('SIGCONT');
    }
    const r = (await answer).body as { ok: boolean; pid: number };
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.pid, newMaster);
    await until(
      () => lines.some((l) => l.startsWith(`READY=1 MAINPID=${newMaster} `)),
      'READY=1 after the commit',
    );
    assert.deepEqual(await app.exited, { code: 0, signal: null });
    process.kill(newMaster, 'SIGTERM');
    await until(() => lines.includes('STOPPING=1'), "the new master's STOPPING=1");
  } finally {
    systemd.kill();
    fs.rmSync(hang, { force: true });
    if (newMaster) signalAll([newMaster], 'SIGKILL');
  }
});

test('a stopping master restarts nothing during drainDelay, and nothing follows STOPPING=1', {
  skip: (!hasPython && 'needs python3') || (process.platform === 'win32' && 'POSIX only'),
}, async () => {
  const sock = path.join(tmp, 'notify3.sock');
  const ipc = path.join(tmp, 'ctl3.sock');
  const { systemd, lines, until } = await fakeSystemd(sock);
  try {
    const app = new AppProcess(
      { overseer: { address: '127.0.0.1:0', workers: 2, ipcPath: ipc, drainDelay: 60_000 } },
      { env: { NOTIFY_SOCKET: sock } },
    );
    await until(() => lines.some((l) => l.startsWith('READY=1')), 'READY=1');
    app.signal('SIGTERM');
    await until(() => lines.includes('STOPPING=1'), 'STOPPING=1');
    app.signal('SIGUSR2');
    const r = await ipcRequest(ipc, 'POST', '/overseer/restart', 30_000);
    assert.equal(r.status, 500);
    assert.equal((r.body as { code: string }).code, 'ERR_OVERSEER_SHUTTING_DOWN', JSON.stringify(r.body));
    app.signal('SIGTERM'); // "now": the test need not wait out drainDelay
    await app.waitExit(30_000);
    assert.equal(app.count('fork'), 2, 'no new worker started');
    // The last datagram: whatever the master sent is in before it.
    native().sendDatagram(sock, Buffer.from('END=1'));
    await until(() => lines.includes('END=1'), 'END=1');
    const after = lines.slice(lines.indexOf('STOPPING=1') + 1).filter((l) => l !== 'WATCHDOG=1');
    assert.deepEqual(after, ['END=1'], `after STOPPING=1: ${JSON.stringify(lines)}`);
  } finally {
    systemd.kill();
  }
});
