// A real master running test/support/fixtures/app.ts (or a script like it), whose events come
// as JSON lines on its stdout: its port from 'listening', a restart by signal and its 'restart'.
import assert from 'node:assert/strict';
import type { AppOptions } from './fixtures/app.js';
import { fixture } from './paths.js';
import { type ProcessEvent, TestProcess } from './process.js';
import { ownRuntimeDir, uniqueName } from './runtime-dir.js';

export const APP = fixture('app.js');

/** An event the app prints (an alias of the process helper's, for the tests' types). */
export type AppEvent = ProcessEvent;

export class AppProcess extends TestProcess {
  /**
   * The name it asks run() for (unique, unless the options give one; a script that does not
   * read APP takes its default name).
   */
  readonly name: string;
  /** Its XDG_RUNTIME_DIR: its own, unless `env` gives one, so the same app runs side by side. */
  readonly runtimeDir: string;

  constructor(
    options: AppOptions,
    opts: {
      env?: NodeJS.ProcessEnv;
      script?: string;
      args?: string[];
      nodeArgs?: string[];
      /** A command that starts node in its place (systemd-socket-activate …), which execs it. */
      launcher?: string[];
    } = {},
  ) {
    const node = [process.execPath, ...(opts.nodeArgs ?? []), opts.script ?? APP, ...(opts.args ?? [])];
    const [command, ...args] = [...(opts.launcher ?? []), ...node];
    // Each its own name and runtime directory, so that the masters a test file runs side by
    // side never meet by name (a pipe's name, on Windows, is the name's alone).
    const named = { ...options, overseer: { name: uniqueName('app'), ...options.overseer } };
    const env = { XDG_RUNTIME_DIR: ownRuntimeDir(), ...opts.env, APP: JSON.stringify(named) };
    super(command!, args, { env, label: 'app' });
    this.name = named.overseer.name;
    this.runtimeDir = env.XDG_RUNTIME_DIR;
  }

  /** The port of the first listener, from the 'listening' event. */
  async port(): Promise<number> {
    const e = await this.nth('listening', 1);
    const first = (e.addresses as string[])[0]!;
    return Number(first.slice(first.lastIndexOf(':') + 1));
  }

  /** Sends the restart signal and waits for that restart's result. */
  async restart(timeoutMs = 30_000): Promise<AppEvent> {
    const before = this.count('restart');
    this.signal('SIGUSR2');
    return this.nth('restart', before + 1, timeoutMs);
  }
}

/** A second master on an address another one holds exits 1 with EADDRINUSE, before any worker. */
export async function assertAddressInUseRefused(address: string): Promise<void> {
  const b = new AppProcess({ overseer: { address } });
  assert.equal((await b.exited).code, 1);
  await b.until(() => b.stderr.some((l) => l.includes('EADDRINUSE')), 5_000, 'EADDRINUSE on stderr');
  assert.equal(b.count('fork'), 0);
}
