// `overseer top` in a real terminal (tmux: send-keys, capture-pane): both apps' workers with CPU
// and memory; `r` restarts the chosen app (the one of the folder it was typed in) hitlessly under
// keep-alive load and says which; `q` and Ctrl+C give the shell its screen and its cooked input
// back. Without a terminal, plain lines (`--once`).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { NamedApps } from './support/named-apps.js';
import { CLI } from './support/paths.js';
import { stopAll, type TestProcess } from './support/process.js';
import { restartsUnderLoad } from './support/restarts.js';

type Json = Record<string, unknown>;
const run = promisify(execFile);
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const skip = (process.platform !== 'linux' && 'procfs') || (!hasTmux && 'no tmux');

describe('overseer top', { skip }, () => {
  const apps = new NamedApps();
  /** A tmux server of this test's own, so no one else's session is touched. */
  const server = `overseer-top-${process.pid}`;
  let a: string;
  let alpha: TestProcess;
  let beta: TestProcess;

  // Never synchronously: a load test's client runs in this process, and a blocked client
  // keeps using keep-alive connections that the draining server has closed meanwhile.
  const tmux = async (...args: string[]): Promise<string> => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...apps.env };
    delete env.TMUX;
    const r = await run('tmux', ['-L', server, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      env,
      timeout: 10_000,
    });
    return r.stdout;
  };
  const screen = (): Promise<string> => tmux('capture-pane', '-p', '-t', 'top');
  /** Waits until the pane shows what `re` matches (bounded). */
  const shows = async (re: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await screen();
      const m = re.exec(text);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`the pane never showed ${re}:\n${text}`);
      await sleep(100);
    }
  };

  before(async () => {
    a = apps.app('alpha', 'alpha');
    const b = apps.app('beta', 'beta');
    alpha = apps.start(a, ['-w', '2']);
    beta = apps.start(b);
    await Promise.all([apps.status('alpha'), apps.status('beta')]);
    // A shell in the folder of alpha, in a terminal of 150 × 45.
    await tmux('new-session', '-d', '-s', 'top', '-x', '150', '-y', '45', '-c', a, 'sh');
  });
  after(async () => {
    await tmux('kill-server').catch(() => {});
    await stopAll();
    apps.cleanup();
  });

  test('without a terminal: one plain snapshot of both apps with --once', () => {
    const r = apps.cli(a, ['top', '--once']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^alpha  pid ${alpha.pid}  up \\S+  cpu \\d+\\.\\d%  mem \\d+\\.\\dM  restarts 0  ${a}$`,
        'm',
      ),
    );
    assert.match(r.stdout, new RegExp(`^beta  pid ${beta.pid} `, 'm'));
    assert.match(r.stdout, /^ {2}WORKER\s+PID\s+SLOT\s+STATE\s+UP\s+CPU\s+MEM\s+RESTARTS$/m);
    assert.ok(!r.stdout.includes('\x1b'), 'no escape sequences');
    const one = apps.cli(a, ['top', '--once', 'beta']);
    assert.ok(!one.stdout.includes('alpha'), one.stdout);
  });

  test('in a terminal: both apps with CPU and memory; r restarts the app of its folder under load with none lost; q gives the shell back', async () => {
    await tmux('send-keys', '-t', 'top', `echo BEFORE-TOP; node ${CLI} top`, 'Enter');
    await shows(/overseer top {2}2 masters/);
    await shows(new RegExp(`^> 1 alpha {2}pid ${alpha.pid} .*cpu \\d+\\.\\d% {2}mem \\d+\\.\\dM`, 'm'));
    await shows(new RegExp(`^ {2}2 beta {2}pid ${beta.pid} `, 'm'));
    await shows(/^ {6}\d+\s+\d+\s+1\s+ready\s+\S+\s+\d+\.\d%\s+\d+\.\dM\s+0$/m); // alpha's second worker
    await shows(/^logs of alpha$/m);
    const status = async (): Promise<Json> => apps.status('alpha');
    let port = NamedApps.port(await status());
    let pressed = 0;
    await restartsUnderLoad(
      {
        port: async () => port,
        restart: async () => {
          const before = Number((await status()).restarts);
          await tmux('send-keys', '-t', 'top', 'r');
          pressed++;
          const m = await shows(new RegExp(`restarted in (\\d+) ms \\(alpha, pid ${alpha.pid}\\)`), 30_000);
          assert.equal(Number((await status()).restarts), before + 1);
          return { ok: true, durationMs: Number(m[1]) };
        },
        settle: (n) => alpha.settle(n),
        stderr: alpha.stderr,
      },
      { restarts: 2, workers: 2, concurrency: 8, report: 'top: r under load' },
    );
    assert.equal(pressed, 2);
    port = NamedApps.port(await status());
    assert.equal((await apps.status('beta')).restarts, 0, 'beta was not touched');
    // The workers' table shows the restarts of each slot.
    await shows(/^ {6}\d+\s+\d+\s+0\s+ready\s+\S+\s+\d+\.\d%\s+\d+\.\dM\s+2$/m);
    // l: the logs of alpha, and back.
    await tmux('send-keys', '-t', 'top', 'l');
    await shows(/^overseer top {2}logs of alpha/m);
    await shows(/^tick from \d+$/m);
    await tmux('send-keys', '-t', 'top', 'l');
    await shows(/^> 1 alpha/m);
    // ↓ chooses beta: its events and logs.
    await tmux('send-keys', '-t', 'top', 'Down');
    await shows(/^> 2 beta/m);
    await shows(/^logs of beta$/m);
    await tmux('send-keys', '-t', 'top', 'q');
    const back = await shows(/BEFORE-TOP\n[$#] ?$/m, 5_000);
    assert.ok(back);
    const shell = await screen();
    assert.ok(!shell.includes('overseer top'), `the screen is the shell's again:\n${shell}`);
    // Cooked input again: the shell reads a line and echoes it.
    await tmux('send-keys', '-t', 'top', 'echo AFTER-$((40 + 2))', 'Enter');
    await shows(/^AFTER-42$/m, 5_000);
  });

  test('Ctrl+C quits as q does, and gives the terminal back', async () => {
    await tmux('send-keys', '-t', 'top', 'clear', 'Enter');
    await tmux('send-keys', '-t', 'top', `echo BEFORE-AGAIN; node ${CLI} top alpha`, 'Enter');
    await shows(/overseer top {2}1 master /);
    await tmux('send-keys', '-t', 'top', 'C-c');
    await shows(/BEFORE-AGAIN\n[$#] ?$/m, 5_000);
    const shell = await screen();
    assert.ok(!shell.includes('overseer top'), shell);
    await tmux('send-keys', '-t', 'top', 'echo AFTER-$((40 + 3))', 'Enter');
    await shows(/^AFTER-43$/m, 5_000);
  });
});
