// systemd's notify protocol: READY=1 when the workers are ready, RELOADING=1 and READY=1
// around a restart, STOPPING=1 on shutdown; workers never see NOTIFY_SOCKET.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, test } from 'node:test';
import { AppProcess } from './helpers/app.js';

const hasPython =
  spawnSync('python3', ['-c', 'import socket; socket.AF_UNIX'], { timeout: 10_000 }).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-systemd-'));
const apps: AppProcess[] = [];
after(async () => {
  await Promise.all(apps.map((a) => a.stop()));
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

test('the master speaks sd_notify for the service', { skip: !hasPython && 'needs python3' }, async () => {
  const sock = path.join(tmp, 'notify.sock');
  const systemd = spawn('python3', ['-c', SYSTEMD, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  readline.createInterface({ input: systemd.stdout }).on('line', (l) => lines.push(l));
  try {
    const until = async (pred: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 15_000;
      while (!pred()) {
        if (Date.now() > deadline) throw new Error(`no ${what}: ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until(() => lines[0] === 'ready', 'receiver');
    const stateDir = fs.mkdtempSync(path.join(tmp, 'state-'));
    const app = new AppProcess(
      { overseer: { address: '127.0.0.1:0', workers: 2 }, stateDir },
      { env: { NOTIFY_SOCKET: sock } },
    );
    apps.push(app);
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
