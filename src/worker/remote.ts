// The master, as a worker reaches it: our messages over the IPC channel (send), the master's
// death (the channel's disconnect, and the kernel's backstop where it has one), and restart(),
// triggerUpdate() and reexec() of a program in a run() worker, asked by the restart signal or
// over the control socket where signals cannot reach it (Windows). The control socket's client
// is loaded only when it is used. Every start-up's worker side talks to its master through here.
import type { WorkerEnv } from '../contract/env.js';
import type { WorkerMessage } from '../contract/messages.js';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { debug, warn } from '../log.js';
import type { ReexecEvent, UpdateOutcome } from '../master/events.js';
import { platform } from '../os/index.js';

/** Sends one of our messages to the master; resolves once it is written, or at once without a channel. */
export function send(m: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

/**
 * Calls `gone` when the master goes (its IPC channel closes), which exits this worker
 * normally, its `exit` handlers run; where it can, the kernel kills it if it has not exited
 * about a second after the master died. A worker whose master is already gone exits at once.
 */
export function watchMaster(masterPid: number, gone: () => void): void {
  process.once('disconnect', gone);
  platform.guardOrphan(masterPid);
}

export class WorkerRemote {
  readonly #masterPid: number;
  readonly #ipcPath: string;

  constructor(
    env: Pick<WorkerEnv<'run'>, 'masterPid' | 'ipcPath'>,
    private readonly restartSignal: NodeJS.Signals,
  ) {
    this.#masterPid = env.masterPid > 0 ? env.masterPid : process.ppid;
    this.#ipcPath = env.ipcPath;
  }

  restart(): void {
    if (platform.restartSignal) {
      process.kill(this.#masterPid, this.restartSignal);
      return;
    }
    this.#request('/overseer/restart').catch((err: unknown) => {
      warn(`restart() could not reach the master: ${errorMessage(err)}`, 'OVERSEER_RESTART_UNREACHABLE');
    });
  }

  /** Asks the master over the control socket; falls back to the restart signal when it cannot. */
  async triggerUpdate(): Promise<UpdateOutcome | { result: 'signalled' }> {
    if (this.#ipcPath !== '') {
      try {
        const { status, body } = await this.#request('/overseer/trigger-update');
        const answer = body as { ok?: boolean; error?: string; code?: string } & UpdateOutcome;
        if (status === 200) return answer;
        const err = codedError(
          Error,
          'ERR_OVERSEER_TRIGGER_FAILED',
          `overseer: trigger-update: ${answer.error ?? `HTTP ${status}`}`,
        );
        if (typeof answer.code === 'string') err.code = answer.code; // the master's own code
        throw err;
      } catch (err) {
        if (errorCode(err)?.startsWith('ERR_OVERSEER_')) throw err;
        debug('trigger-update over %s failed (%s); signalling instead', this.#ipcPath, errorMessage(err));
      }
    }
    if (!platform.restartSignal) {
      throw codedError(
        Error,
        'ERR_OVERSEER_IPC_UNREACHABLE',
        "overseer: triggerUpdate() could not reach the master's control socket",
      );
    }
    process.kill(this.#masterPid, this.restartSignal);
    return { result: 'signalled' };
  }

  /** Asks the master over the control socket to hand itself over to a new master. */
  async reexec(): Promise<ReexecEvent> {
    if (this.#ipcPath === '') {
      throw codedError(Error, 'ERR_OVERSEER_IPC_UNREACHABLE', 'overseer: reexec() needs the control socket');
    }
    const { body } = await this.#request('/overseer/reexec');
    const answer = body as { ok: boolean; pid?: number; durationMs: number; error?: string; code?: string };
    if (answer.ok) return { ok: true, pid: answer.pid!, durationMs: answer.durationMs };
    const error = codedError(Error, 'ERR_OVERSEER_HANDOFF', `overseer: reexec: ${answer.error ?? 'failed'}`);
    if (typeof answer.code === 'string') error.code = answer.code;
    return { ok: false, durationMs: answer.durationMs ?? 0, error };
  }

  async #request(path: string) {
    const { ipcRequest } = await import('../control/client.js');
    return ipcRequest(this.#ipcPath, 'POST', path);
  }
}
