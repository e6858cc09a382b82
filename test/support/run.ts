// `overseer run [options] <script>` as a user types it, for the tests of unmodified apps: a
// fixture of test/support/fixtures/run/ (or any file, by its absolute path), with its control
// socket in a temporary directory of its own, and what a test asks of it over that socket: its
// status, a restart and its answer, its ready workers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../../src/control/client.js';
import { Example } from './example.js';
import { CLI, ROOT } from './paths.js';

const sockets = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-run-sockets-'));
process.once('exit', () => fs.rmSync(sockets, { recursive: true, force: true }));
let count = 0;

export class Run extends Example {
  readonly socket: string;

  constructor(script: string, options: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const socket = path.join(sockets, `c${++count}.sock`);
    const file = path.isAbsolute(script)
      ? path.relative(ROOT, script)
      : `test/support/fixtures/run/${script}`;
    super(file, {
      nodeArgs: [CLI, 'run', '--ipc-path', socket, ...options],
      env,
    });
    this.socket = socket;
  }

  async status(): Promise<Record<string, unknown>> {
    for (let i = 0; ; i++) {
      try {
        return (await ipcRequest(this.socket, 'GET', '/overseer/status', 5_000)).body as Record<
          string,
          unknown
        >;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(50);
      }
    }
  }

  /** `overseer restart`, as a user runs it; resolves with its answer. */
  override async restart(): Promise<void> {
    const r = this.restartResult();
    const body = await r;
    assert.equal(body.ok, true, JSON.stringify(body));
  }

  async restartResult(): Promise<Record<string, unknown>> {
    await this.status();
    return (await ipcRequest(this.socket, 'POST', '/overseer/restart', 60_000)).body as Record<
      string,
      unknown
    >;
  }

  /** Ready workers, as the master counts them. */
  async ready(n: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status();
      const workers = s.workers as { state: string }[];
      if (workers.filter((w) => w.state === 'ready').length >= n) return;
      if (Date.now() > deadline) throw new Error(`not ${n} ready workers: ${JSON.stringify(workers)}`);
      await sleep(50);
    }
  }
}
