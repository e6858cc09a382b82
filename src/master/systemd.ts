// systemd's notify protocol, when the master runs as a Type=notify (or notify-reload) service:
// READY=1 once every worker slot is ready, RELOADING=1 … READY=1 around each restart, and
// STOPPING=1 on shutdown. The socket comes from NOTIFY_SOCKET ('@name' is the abstract
// namespace), and workers never see it, so only the master speaks for the service. With
// FileDescriptorStoreMax=, the sockets this master binds go to systemd's FD store too, so a
// master that crashes, or that systemd restarts, gets them back (LISTEN_FDS), and the kernel
// keeps queueing connections on them meanwhile.

import { errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { storedName } from '../os/activation.js';
import { native, nativeAvailable } from '../os/native.js';
import type { MasterSockets } from '../os/types.js';
import type { RestartResult } from './events.js';
import type { WorkerLaunch } from './launch.js';

export interface Notifier {
  /** What a new master that takes over (a handoff) needs to speak for the service: NOTIFY_SOCKET, FDSTORE. */
  readonly env: Record<string, string>;
  ready(status: string): void;
  /** READY=1 after a restart, saying how it went. */
  restarted(result: RestartResult): void;
  /** FDSTORE: keeps `fd` in systemd's FD store under `name`; undefined unless the unit allows it ($FDSTORE). */
  readonly store: ((name: string, fd: number) => void) | undefined;
  /** FDSTOREREMOVE: takes what is stored under `name` out of the FD store (with `store`). */
  readonly unstore: ((name: string) => void) | undefined;
  reloading(): void;
  stopping(): void;
}

/**
 * A notifier for NOTIFY_SOCKET, which it removes from this process's environment (with the
 * watchdog's variables); undefined without one. With WATCHDOG_USEC set (for this pid, when
 * WATCHDOG_PID says which), it sends WATCHDOG=1 at half that interval: systemd restarts a
 * master whose event loop is stuck.
 */
export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): Notifier | undefined {
  const socket = env.NOTIFY_SOCKET;
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID === undefined ? process.pid : Number(env.WATCHDOG_PID);
  // systemd ≥ 254 sets FDSTORE to FileDescriptorStoreMax= when it is not 0.
  const fdStore = Number(env.FDSTORE) > 0;
  delete env.FDSTORE;
  delete env.NOTIFY_SOCKET;
  delete env.WATCHDOG_USEC;
  delete env.WATCHDOG_PID;
  if (!socket || !nativeAvailable()) return undefined;
  const send = (message: string, fds?: number[]): void => {
    try {
      native().sendDatagram(socket, Buffer.from(message), fds);
    } catch (err) {
      debug('sd_notify %j: %s', message, errorMessage(err));
    }
  };
  if (watchdogPid === process.pid && Number.isFinite(watchdogUsec) && watchdogUsec > 0) {
    const every = Math.max(1, Math.floor(watchdogUsec / 2000));
    send('WATCHDOG=1');
    setInterval(() => send('WATCHDOG=1'), every).unref();
    debug('sd_notify: WATCHDOG=1 every %d ms', every);
  }
  // STOPPING=1 is the service's last state: no READY=1 or RELOADING=1 after it (a restart that
  // a stop cut short, a start that ended during drainDelay).
  let stopping = false;
  const ready = (status: string): void => {
    if (!stopping) send(`READY=1\nMAINPID=${process.pid}\nSTATUS=${status}`);
  };
  return {
    env: { NOTIFY_SOCKET: socket, ...(fdStore ? { FDSTORE: '1' } : {}) },
    store: fdStore ? (name, fd) => send(`FDSTORE=1\nFDNAME=${name}`, [fd]) : undefined,
    unstore: fdStore ? (name) => send(`FDSTOREREMOVE=1\nFDNAME=${name}`) : undefined,
    ready,
    restarted: (r) => ready(r.ok ? `restarted in ${r.durationMs} ms` : `restart failed: ${r.error?.message}`),
    // notify-reload services must say when the reload started, on the monotonic clock.
    reloading: () => {
      if (!stopping) send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
    },
    stopping: () => {
      stopping = true;
      send('STOPPING=1');
    },
  };
}

/**
 * Stores each socket this master bound (not those it adopted), and each routed one it makes from
 * now on; a routed one it lets go of leaves the store.
 */
export function storeSockets(
  notifier: Pick<Notifier, 'store' | 'unstore'>,
  sockets: MasterSockets,
  launch: WorkerLaunch | undefined,
): void {
  const { store, unstore } = notifier;
  if (store === undefined || unstore === undefined) return;
  for (const s of sockets.handoff?.().sockets ?? []) {
    const name = s.fresh ? storedName('config', s.config) : undefined;
    if (name !== undefined) store(name, s.fd);
  }
  launch?.storeRoutes(
    (key, fd) => {
      const name = storedName('route', key);
      if (name !== undefined) store(name, fd);
    },
    (key) => {
      const name = storedName('route', key);
      if (name !== undefined) unstore(name);
    },
  );
}
