// A master's part in handoffs (reexec): the one it may have come from (new-master.ts), the
// ones it may make, one at a time (old-master.ts), and what they decide: whose the sockets'
// files are (a master removes them at its end only while they are its own), and whether a
// new master took over (this one then drains and exits with 0). Each side is loaded only
// when it has something to do.
import { errorMessage } from '../../errors.js';
import { warn } from '../../log.js';
import type { HandoffHost } from './host.js';
import type { Inherited } from './new-master.js';
import { HANDOFF_ENV, type ReexecResult } from './protocol.js';

export class MasterHandoff {
  #ownsFiles = true;
  #handedOff = false;
  /** A new master's inheritance, until the old master has committed. */
  #inherited: Inherited | undefined;
  #running: Promise<ReexecResult> | undefined;

  constructor(private readonly host: HandoffHost) {}

  /** Whether the sockets' files (unix sockets, the control socket) are this master's to remove. */
  get ownsFiles(): boolean {
    return this.#ownsFiles;
  }

  /** Set once a new master took over: this one drains its workers and exits with 0. */
  get handedOff(): boolean {
    return this.#handedOff;
  }

  /** A master's start: what an old master handed over, when this is a new master. */
  async take(env: NodeJS.ProcessEnv = process.env): Promise<Inherited | undefined> {
    if (!env[HANDOFF_ENV]) {
      delete env[HANDOFF_ENV]; // its workers are not new masters
      return undefined;
    }
    const { takeHandoff } = await import('./new-master.js');
    this.#inherited = await takeHandoff(this.host, env);
    // Until the old master commits, its files are its own: this one may yet be killed.
    if (this.#inherited) this.#ownFiles(false);
    return this.#inherited;
  }

  /** Every slot is ready: a new master tells the old one, which commits; then the files and the health port are its. */
  async settle(): Promise<void> {
    const inherited = this.#inherited;
    this.#inherited = undefined;
    if (!inherited || !(await inherited.ready())) return;
    this.#ownFiles(true);
    await this.host.health.serve().catch((err: unknown) => {
      warn(`the health endpoint could not listen: ${errorMessage(err)}`, 'OVERSEER_HEALTH_FAILED');
    });
  }

  /** Hands the sockets to a new master (`command`, or this process's own command line); a second call joins the first. */
  reexec(command?: readonly string[]): Promise<ReexecResult> {
    this.#running ??= this.#handOver(command).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #handOver(command: readonly string[] | undefined): Promise<ReexecResult> {
    const { handOver } = await import('./old-master.js');
    const result = await handOver(this.host, command);
    if (!result.ok) return result;
    // Committed: the new master serves every socket and its files; this one drains and goes.
    this.#handedOff = true;
    this.#ownFiles(false);
    this.host.core.control?.handOver();
    this.host.drain();
    return result;
  }

  #ownFiles(own: boolean): void {
    this.#ownsFiles = own;
    this.host.launch?.ownFiles(own);
  }
}
