// The default control sockets of killed masters are swept at start: only stale sockets of
// this user, never a live one, another user's, a symlink or anything that is not a socket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { native } from '../src/os/native.js';
import { AppProcess } from './support/app.js';
import { stopAll } from './support/process.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-stale-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A socket file nothing listens on: what a SIGKILLed master leaves. */
function staleSocket(file: string): void {
  native().close(native().unixListen(file, 1));
}

test('a master sweeps its directory of stale default sockets, and nothing else', {
  skip: process.platform === 'win32' && 'unix sockets',
}, async () => {
  const dir = path.join(tmp, 'tmpdir');
  const elsewhere = path.join(tmp, 'elsewhere');
  fs.mkdirSync(dir);
  fs.mkdirSync(elsewhere);
  const at = (name: string): string => path.join(dir, name);
  const dead = ['overseer-dead1.sock', 'overseer-dead2.sock'].map(at);
  for (const f of dead) staleSocket(f);
  const live = net.createServer();
  await new Promise<void>((r) => live.listen(at('overseer-live.sock'), r));
  const target = path.join(elsewhere, 'target.sock');
  staleSocket(target);
  fs.symlinkSync(target, at('overseer-link.sock'));
  fs.writeFileSync(at('overseer-file.sock'), 'not a socket');
  staleSocket(at('other-app.sock'));
  const others = process.getuid?.() === 0 ? at('overseer-other-user.sock') : undefined;
  if (others) {
    staleSocket(others);
    fs.lchownSync(others, 4242, 4242);
  }
  try {
    const a = new AppProcess({ overseer: { address: '127.0.0.1:0' } }, { env: { TMPDIR: dir } });
    const ipc = await a.nth('ipc', 1);
    const deadline = Date.now() + 5_000;
    while (dead.some((f) => fs.existsSync(f)) && Date.now() < deadline) await sleep(20);
    assert.deepEqual(
      dead.filter((f) => fs.existsSync(f)),
      [],
      'stale sockets were left',
    );
    const left = fs.readdirSync(dir).sort();
    const expected = [
      'other-app.sock',
      'overseer-file.sock',
      'overseer-link.sock',
      'overseer-live.sock',
      ...(others ? ['overseer-other-user.sock'] : []),
    ].sort();
    assert.deepEqual(left, expected);
    // Its own socket is its name's, in its runtime directory.
    assert.equal(String(ipc.path), path.join(a.runtimeDir, 'overseer', `${a.name}.sock`));
    assert.ok(fs.lstatSync(target).isSocket(), "the symlink's target is untouched");
    await a.stop();
  } finally {
    live.close();
  }
});
