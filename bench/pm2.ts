// pm2 as a peer: its own CLI (node_modules/.bin/pm2) with PM2_HOME in a fresh temp
// directory, so it never touches the user's pm2. kill() always ends the daemon it started.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rssMiB } from './rss.js';

const BIN = fileURLToPath(new URL('../../node_modules/.bin/pm2', import.meta.url));

export interface Pm2App {
  name: string;
  script: string;
  execMode: 'cluster' | 'fork';
  instances: number;
  env: Record<string, string>;
}

export class Pm2 {
  readonly home = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-pm2-'));

  /** Runs one pm2 command (bounded in time) and returns its output. */
  cli(args: string[], timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        BIN,
        args,
        { env: { ...process.env, PM2_HOME: this.home }, timeout: timeoutMs, maxBuffer: 4 << 20 },
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
