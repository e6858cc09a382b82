// `overseer run` on Windows (under Wine, by `npm run test:windows`): an unmodified app's
// listens are routed to the master, which sends the workers handles over IPC; restarts through
// the control pipe drop no request, and the app's own SIGINT handler runs after the drain.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { describeErrors, startLoad } from './support/load.js';
import { CLI, fixture } from './support/paths.js';
import { node, stopAll } from './support/process.js';

const skip = process.platform === 'win32' ? false : 'Windows only (test/run.test.ts covers POSIX)';
const APP = fixture('run/app.cjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-winrun-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('overseer run on Windows', { skip }, () => {
  test('an unmodified app: 3 restarts under load through the control pipe, 0 failed; its cleanup after the drain', async () => {
    const pipe = `\\\\.\\pipe\\overseer-run-test-${process.pid}`;
    const log = path.join(tmp, 'pool.log');
    const master = node(CLI, ['run', '--ipc-path', pipe, '--kill-signal', 'SIGINT', APP], {
      env: { PORT: '0', POOL_LOG: log, POOL_SIGNAL: 'SIGINT' },
    });
    try {
      const port = Number((await master.line(/listening on .*:(\d+)/, 0, 60_000))[1]);
      assert.ok(port > 0, master.describe());
      const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 120_000 });
      for (let i = 0; i < 3; i++) {
        const r = await ipcRequest(pipe, 'POST', '/overseer/restart', 60_000);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      }
      await sleep(1_000);
      const result = await load.stop();
      console.log(`windows overseer run: ${result.ok} ok, ${result.failed} failed, ${result.pids.size} pids`);
      assert.equal(result.failed, 0, describeErrors(result));
      assert.ok(result.pids.size > 1);
      for (let i = 0; i < 100 && !fs.existsSync(log); i++) await sleep(100);
      for (let i = 0; i < 100 && fs.readFileSync(log, 'utf8').trim().split('\n').length < 3; i++)
        await sleep(100);
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
      assert.equal(lines.length, 3, lines.join(' | '));
      for (const l of lines) assert.match(l, /closed listening=false$/);
    } finally {
      master.child.kill(); // TerminateProcess, as before
    }
  });
});
