// Runs an example as its users would (`node [flags] examples/…`), on a free port, from the
// repository root, and reads what it prints: the `listening on …:PORT` line, and a
// `restart done` line per restart.
import { ROOT, repoPath } from './paths.js';
import { TestProcess } from './process.js';

export class Example extends TestProcess {
  /** `file`: a compiled example (dist/examples/<name>/server.js), or any file under the repository. */
  constructor(file: string, opts: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {}) {
    super(process.execPath, [...(opts.nodeArgs ?? []), repoPath(file)], {
      env: { PORT: '0', ...opts.env },
      cwd: ROOT,
      label: file,
    });
  }

  /** The port of the master's first address. */
  async port(): Promise<number> {
    return Number((await this.line(/listening on .*?:(\d+)\b/))[1]);
  }

  /** SIGUSR2, then the next `restart done`. */
  async restart(): Promise<void> {
    const from = this.lines.length;
    this.signal('SIGUSR2');
    await this.line(/^restart done/, from, 30_000);
  }
}
