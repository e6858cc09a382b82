// The new master's side of a handoff (reexec), when this process is one (OVERSEER_HANDOFF):
// it takes the sockets the old master handed over, adopts them (its routed sockets and its
// counters too), starts its workers on them and says it is ready; the old master commits.
import { setTimeout as sleep } from 'node:timers/promises';
import { codedError, errorMessage } from '../../errors.js';
import { debug } from '../../log.js';
import { processRuns } from '../../os/process-runs.js';
import type { HandedSockets } from '../../os/types.js';
import type { HandoffHost } from './host.js';
import { HANDOFF_ENV } from './protocol.js';

/** What a new master takes over. */
export interface Inherited {
  /** The old master's configured sockets, for this one's own (platform.openSockets's handedOver). */
  readonly sockets: HandedSockets;
  /** The old master's control socket, bound at its path. */
  readonly control: { path: string; fd: number } | undefined;
  /** The versions the old master's updater knew to be bad. */
  readonly badHashes: string[];
  /** Once this master's sockets are open: the rest of the inheritance (routed sockets, counters). */
  adopt(): Promise<void>;
  /** Says why this master cannot go on: the old one carries on. */
  fail(err: unknown): void;
  /** Says it is ready (every slot is); true once the old master has committed (it drains now). */
  ready(): Promise<boolean>;
  /** The old master's pid. */
  readonly oldPid: number;
  /** Whether the old master has died (after a ready() without a commit). */
  oldMasterGone(): Promise<boolean>;
  /** Whether the old master has died, as far as can be told now (this master was reparented, or it is gone). */
  oldMasterDied(): boolean;
  /** Closes the channel and removes what the old master's side of it left (it died before it could). */
  forget(): void;
}

/** How long a new master waits for a dead old master's exit to become plain (its children reparented). */
const GONE_WITHIN_MS = 2_000;

/** What the old master handed over, when this process is a new master; undefined otherwise. */
export async function takeHandoff(
  master: HandoffHost,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Inherited | undefined> {
  const at = env[HANDOFF_ENV];
  delete env[HANDOFF_ENV]; // its workers are not new masters
  if (!at) return undefined;
  const transport = await master.core.platform.handoff();
  const conn = await transport.connect(at, 10_000);
  const oldPid = conn.peerPid();
  const { message, fds } = await conn.receive(10_000);
  if (message.kind !== 'sockets') {
    conn.close();
    throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: the old master sent no sockets');
  }
  const fd = (i: number): number => {
    const f = fds[i];
    if (f === undefined) throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: a socket is missing');
    return f;
  };
  const sockets = { sockets: message.sockets.map((s) => ({ ...s, fd: fd(s.fd) })) };
  const routes = message.routes.map((r) => ({ ...r, fd: fd(r.fd) }));
  const control = message.control && { path: message.control.path, fd: fd(message.control.fd) };
  const { state } = message;
  return {
    sockets,
    control,
    badHashes: Array.isArray(state.badHashes) ? state.badHashes.filter((h) => typeof h === 'string') : [],
    async adopt(): Promise<void> {
      // The old master's sockets this one's config no longer has: they close with the old master.
      const used = new Set(
        master
          .sockets()
          ?.handoff?.()
          .sockets.map((s) => s.fd) ?? [],
      );
      for (const s of sockets.sockets) if (!used.has(s.fd)) master.core.platform.closeFd(s.fd);
      await master.launch?.adoptRoutes(routes);
      master.core.supervisor.restore(state);
    },
    fail(err: unknown): void {
      void conn.send({ kind: 'failed', error: errorMessage(err) }).finally(() => conn.close());
    },
    oldPid,
    async oldMasterGone(): Promise<boolean> {
      // Its end closes the channel before the kernel hands its children (this master) to
      // another parent: a moment may pass between the two.
      const deadline = performance.now() + GONE_WITHIN_MS;
      while (process.ppid === oldPid && performance.now() < deadline) await sleep(20);
      if (process.ppid !== oldPid) return true;
      return !processRuns(oldPid);
    },
    oldMasterDied: () => process.ppid !== oldPid || !processRuns(oldPid),
    forget: () => {
      conn.close();
      transport.forget?.(at);
    },
    async ready(): Promise<boolean> {
      try {
        await conn.send({ kind: 'ready', pid: process.pid });
        const { message: m } = await conn.receive(60_000);
        return m.kind === 'commit';
      } catch (err) {
        debug('handoff: no commit from the old master: %s', errorMessage(err));
        return false;
      } finally {
        conn.close();
      }
    },
  };
}
