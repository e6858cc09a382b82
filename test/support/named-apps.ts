// Apps in folders of their own, each with a package.json name, run by `overseer run` from its
// folder, and the `overseer` CLI typed in any folder: the way a user with two apps on one
// machine works. Everything runs with a runtime directory and a tmpdir of the test's own, so
// that no other master of the machine is listed, chosen or refused.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipcRequest } from '../../src/control/client.js';
import { CLI } from './paths.js';
import { node, type TestProcess } from './process.js';

type Json = Record<string, unknown>;

/** An unmodified app: an HTTP server on a port of the master's choosing, saying which pid answered. */
const SERVER = `const http = require('node:http');
const server = http.createServer((req, res) => {
  res.setHeader('x-pid', String(process.pid));
  res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log('listening on ' + server.address().port));
setInterval(() => console.log('tick from ' + process.pid), 500).unref();
`;

export class NamedApps {
  /** Where the apps' folders are (symlinks resolved, as the CLI sees its cwd). */
  readonly root: string;
  /** XDG_RUNTIME_DIR and TMPDIR of the test's own, for every master and command. */
  readonly env: NodeJS.ProcessEnv;

  constructor() {
    this.root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-apps-')));
    const runtime = path.join(this.root, 'run');
    const tmpdir = path.join(this.root, 'tmp');
    fs.mkdirSync(runtime, { mode: 0o700 });
    fs.mkdirSync(tmpdir);
    this.env = { XDG_RUNTIME_DIR: runtime, TMPDIR: tmpdir, OVERSEER_IPC_PATH: '' };
  }

  /** The directory where this user's named sockets are. */
  get socketDir(): string {
    return path.join(String(this.env.XDG_RUNTIME_DIR), 'overseer');
  }

  /** A folder `folder` with a package.json named `name` and the app in server.cjs. */
  app(folder: string, name: string): string {
    const dir = path.join(this.root, folder);
    fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true }));
    fs.writeFileSync(path.join(dir, 'server.cjs'), SERVER);
    return dir;
  }

  /** `overseer run [args] server.cjs`, typed in `dir`. */
  start(dir: string, args: string[] = []): TestProcess {
    return node(CLI, ['run', ...args, 'server.cjs'], { cwd: dir, env: this.env, label: path.basename(dir) });
  }

  /** An `overseer` command typed in `cwd` (with `env` beside the test's own). */
  cli(
    cwd: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
  ): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, ...this.env, ...env },
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /**
   * The status of the master named `name`, once each of its workers is ready (bounded). Asked
   * over its socket without blocking this process (a load test's client runs here).
   */
  async status(name: string, timeoutMs = 20_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await ipcRequest(
        path.join(this.socketDir, `${name}.sock`),
        'GET',
        '/overseer/status',
        5_000,
      ).catch((err: Error) => ({ status: 0, body: err.message }));
      if (r.status === 200) {
        const s = r.body as Json;
        const workers = s.workers as Json[];
        if (workers.length > 0 && workers.every((w) => w.state === 'ready')) return s;
      }
      if (Date.now() > deadline) throw new Error(`${name} did not come up: ${JSON.stringify(r.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The port the app listens on (the master's routed socket). */
  static port(status: Json): number {
    const first = String((status.addresses as string[])[0]);
    return Number(first.slice(first.lastIndexOf(':') + 1));
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
