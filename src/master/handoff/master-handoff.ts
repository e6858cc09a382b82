// A master's part in handoffs (reexec): the one it may have come from (new-master.ts), the
// ones it may make, one at a time (old-master.ts), and what they decide: whose the sockets'
// files are (a master removes them at its end only while they are its own), and whether a
// new master took over (this one then drains and exits with 0). Each side is loaded only
// when it has something to do.
import { errorMessage } from '../../errors.js';
import { debug, warn } from '../../log.js';
import type { HandoffHost } from './host.js';
import type { Inherited } from './new-master.js';
import { HANDOFF_ENV, handoffFailed, type ReexecResult } from './protocol.js';

/** How often a new master looks whether its old master died before the commit. */
const WATCH_MS = 250;

export class MasterHandoff {
  #ownsFiles = true;
  #handedOff = false;
  /** A new master's inheritance, until the handoff that made it is settled (committed or not). */
  #inherited: Inherited | undefined;
  #running: Promise<ReexecResult> | undefined;
  /** Ends the running handoff before its commit (this master is asked to stop). */
  #abort: AbortController | undefined;

  constructor(private readonly host: HandoffHost) {}

  /** Whether the sockets' files (unix sockets, the control socket) are this master's to remove. */
  get ownsFiles(): boolean {
    return this.#ownsFiles;
  }

  /** Set once a new master took over: this one drains its workers and exits with 0. */
  get handedOff(): boolean {
    return this.#handedOff;
  }

  /** A handoff of this master's is under way (before its commit, or committing). */
  get inProgress(): boolean {
    return this.#running !== undefined;
  }

  /**
   * A stop during a handoff: the new master is killed unless the commit is on its way (then it
   * serves, and this master drains as after any handoff). Resolves once that is settled, so the
   * stop that follows never leaves a new master serving without its socket files.
   */
  async abort(): Promise<void> {
    this.#abort?.abort();
    await this.#running?.catch(() => {});
  }

  /**
   * A master's start: what an old master handed over, when this is a new master. Either way,
   * what handoffs of this user's masters that were killed left behind goes.
   */
  async take(env: NodeJS.ProcessEnv = process.env): Promise<Inherited | undefined> {
    Promise.resolve()
      .then(() => this.host.core.platform.handoff())
      .then(
        (transport) => transport.sweep?.(),
        () => {}, // no handoffs on this platform
      );
    if (!env[HANDOFF_ENV]) {
      delete env[HANDOFF_ENV]; // its workers are not new masters
      return undefined;
    }
    const { takeHandoff } = await import('./new-master.js');
    this.#inherited = await takeHandoff(this.host, env);
    // Until the old master commits, its files are its own: this one may yet be killed.
    if (this.#inherited) {
      this.#ownFiles(false);
      this.#watch(this.#inherited);
    }
    return this.#inherited;
  }

  /**
   * An old master that dies before its commit leaves this one the only master: it takes over
   * at once, not only once its workers are ready (which they may never be), so that the
   * control socket is answered meanwhile.
   */
  #watch(inherited: Inherited): void {
    const timer = setInterval(() => {
      if (this.#inherited !== inherited) clearInterval(timer);
      else if (inherited.oldMasterDied()) {
        clearInterval(timer);
        void this.#takeOver(inherited);
      }
    }, WATCH_MS);
    timer.unref();
  }

  /** The old master died before its commit: this one serves in its place, with its files. */
  async #takeOver(inherited: Inherited): Promise<void> {
    this.#inherited = undefined;
    warn(
      `the old master (pid ${inherited.oldPid}) died during the handoff, before its commit; this master serves in its place`,
      'OVERSEER_HANDOFF_TAKEOVER',
    );
    inherited.forget();
    this.#ownFiles(true);
    if (inherited.control) await this.host.serveControl(inherited.control);
    await this.host.core.control?.rebindIfGone();
    await this.#serveHealth();
  }

  async #serveHealth(): Promise<void> {
    await this.host.health.serve().catch((err: unknown) => {
      warn(`the health endpoint could not listen: ${errorMessage(err)}`, 'OVERSEER_HEALTH_FAILED');
    });
  }

  /**
   * Every slot is ready: a new master tells the old one, which commits; then the files, the
   * control socket and the health port are its. Until then the old master alone serves the
   * control socket (both have its fd): a request meanwhile, a second reexec among them, reaches
   * the master that runs the handoff, never one that may yet be killed. An old master that is
   * still there and did not commit is ending the handoff (it kills this master): this one stops
   * too, so there are never two. One that died before its commit left this master the only
   * one: it carries on, with the files, its control socket bound again if the old one's end
   * removed it, and without the handoff's directory. Resolves with whether this master serves.
   */
  async settle(): Promise<boolean> {
    const inherited = this.#inherited;
    if (!inherited) return true; // no handoff, or taken over already (#watch)
    const committed = await inherited.ready();
    if (this.#inherited !== inherited) return true; // taken over meanwhile
    if (committed) {
      this.#inherited = undefined;
      this.#ownFiles(true);
      if (inherited.control) await this.host.serveControl(inherited.control);
      await this.#serveHealth();
      return true;
    }
    if (await inherited.oldMasterGone()) {
      if (this.#inherited === inherited) await this.#takeOver(inherited);
      return true;
    }
    debug('handoff: the old master did not commit; this master stops');
    this.#inherited = undefined;
    if (inherited.control) this.host.core.platform.closeFd(inherited.control.fd);
    this.host.drain();
    return false;
  }

  /** Hands the sockets to a new master (`command`, or this process's own command line); a second call joins the first. */
  reexec(command?: readonly string[]): Promise<ReexecResult> {
    // A master that may yet be killed makes no new master of its own: it would outlive this one.
    if (this.#inherited) {
      return Promise.resolve(
        handoffFailed('this master is still taking over from the old one; ask again once it serves'),
      );
    }
    if (this.#running === undefined) {
      const abort = new AbortController();
      this.#abort = abort;
      this.#running = this.#handOver(command, abort.signal).finally(() => {
        this.#running = undefined;
        this.#abort = undefined;
      });
    }
    return this.#running;
  }

  async #handOver(command: readonly string[] | undefined, abort: AbortSignal): Promise<ReexecResult> {
    const { handOver } = await import('./old-master.js');
    const result = await handOver(this.host, command, abort);
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
