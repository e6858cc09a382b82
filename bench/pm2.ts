// pm2 as a peer: its own CLI (node_modules/pm2/bin/pm2, run by this node, so that a machine
// with no node on its PATH runs it too) with PM2_HOME in a fresh temp directory, so it never
// touches the user's pm2. kill() always ends the daemon it started.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { rssMiB } from './rss.js';

const BIN = fileURLToPath(new URL('../../node_modules/pm2/bin/pm2', import.meta.url));

/** Why pm2 cannot run here (it is a devDependency, and the many-core pack may leave it out), or undefined. */
export function pm2Missing(): string | undefined {
  return fs.existsSync(BIN) ? undefined : `pm2 is not installed (${BIN})`;
}

export interface Pm2App {
  name: string;
  script: string;
  execMode: 'cluster' | 'fork';
  instances: number;
  env: Record<string, string>;
}

export class Pm2 {
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-pm2-'));

  constructor() {
    // pm2's CLI asks version.pm2.io for news (and prints its banner) when PM2_HOME has no
    // `touch` file, that is on each fresh home; the daemon asks again now and then unless told not to.
    fs.writeFileSync(path.join(this.home, 'touch'), String(Date.now()));
  }

  /** Runs one pm2 command (bounded in time) and returns its output. */
  cli(args: string[], timeoutMs = 60_000): Promise<string> {
    const missing = pm2Missing();
    if (missing) return Promise.reject(new Error(missing));
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        {
          env: { ...process.env, PM2_HOME: this.home, PM2_DISABLE_VERSION_CHECK: '1' },
          timeout: timeoutMs,
          maxBuffer: 4 << 20,
        },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`pm2 ${args.join(' ')}: ${err.message} ${stderr.slice(-300)}`));
          else resolve(stdout);
        },
      );
    });
  }

  async start(app: Pm2App): Promise<void> {
    const file = path.join(this.home, 'ecosystem.json');
    const config = {
      apps: [
        {
          name: app.name,
          script: app.script,
          exec_mode: app.execMode,
          instances: app.instances,
          env: app.env,
          autorestart: true,
          watch: false,
        },
      ],
    };
    fs.writeFileSync(file, JSON.stringify(config));
    await this.cli(['start', file]);
  }

  /** Waits until `n` instances of `name` are online, polling `pm2 jlist` (bounded in time). */
  async online(name: string, n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = JSON.parse(await this.cli(['jlist'])) as { name: string; pm2_env?: { status?: string } }[];
      const up = list.filter((p) => p.name === name && p.pm2_env?.status === 'online').length;
      if (up >= n) return;
      if (Date.now() > deadline) throw new Error(`pm2: ${up} of ${n} instances online after ${timeoutMs} ms`);
      await sleep(200);
    }
  }

  /** `pm2 reload <name>`: resolves when pm2 says it is done, with how long that took. */
  async reload(name: string): Promise<number> {
    const t0 = Date.now();
    await this.cli(['reload', name]);
    return Date.now() - t0;
  }

  /** The God daemon's pid, from $PM2_HOME/pm2.pid. */
  daemonPid(): number | undefined {
    try {
      const pid = Number(fs.readFileSync(path.join(this.home, 'pm2.pid'), 'utf8').trim());
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  daemonRssMiB(): number | undefined {
    return rssMiB(this.daemonPid());
  }

  /** `pm2 kill`; if the daemon outlives it, SIGKILL that one pid. Then removes PM2_HOME. */
  async kill(): Promise<void> {
    const pid = this.daemonPid();
    try {
      await this.cli(['kill'], 30_000);
    } catch {
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
    }
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}
