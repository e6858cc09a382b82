// What an old master and the new one that replaces it (reexec) say to each other, on a
// private unix socket whose path the new master finds in OVERSEER_HANDOFF. The old master
// sends every listening socket (SCM_RIGHTS) with what the new one needs to carry on; the new
// one answers once its workers are ready; the old one commits, drains its workers and exits.

import { codedError } from '../../errors.js';
import type { HandedSockets } from '../../os/types.js';
import type { ReexecEvent } from '../events.js';
import type { SupervisorCounters } from '../supervisor.js';

export const HANDOFF_ENV = 'OVERSEER_HANDOFF';

/** A routed socket (listen routing) as a handoff carries it: its route key, fd and unix path. */
export interface HandedRoute {
  key: string;
  fd: number;
  path?: string;
  /** Passed by systemd: the new master never closes it before its end either. */
  adopted?: boolean;
}

/** Old → new: the sockets (their fds come with the message, in this order) and the state. */
export interface HandoffSockets {
  kind: 'sockets';
  /** The configured listeners; each `fd` is an index into the message's fds. */
  sockets: HandedSockets['sockets'];
  /** Routed sockets (listen routing), by their key; `fd` as above. */
  routes: HandedRoute[];
  /** The control socket: its path, and the index of its fd. */
  control: { path: string; fd: number } | undefined;
  /** The supervisor's counters, and the versions the updater knows to be bad. */
  state: SupervisorCounters & { badHashes?: string[] };
}

/** New → old. */
export type HandoffAnswer = { kind: 'ready'; pid: number } | { kind: 'failed'; error: string };

/** Old → new: the old master is draining; the sockets and their files are the new one's. */
export interface HandoffCommit {
  kind: 'commit';
}

export type HandoffMessage = HandoffSockets | HandoffAnswer | HandoffCommit;

/** What reexec() resolves with. */
export type ReexecResult = ReexecEvent;

/** A handoff that failed, or was refused, `durationMs` into it: why, as ERR_OVERSEER_HANDOFF. */
export function handoffFailed(why: string, durationMs = 0): ReexecResult {
  return { ok: false, durationMs, error: codedError(Error, 'ERR_OVERSEER_HANDOFF', `handoff: ${why}`) };
}
