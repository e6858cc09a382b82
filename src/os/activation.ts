// systemd's socket activation protocol (sd_listen_fds(3)): a service started with LISTEN_PID
// set to its own pid, LISTEN_FDS=N and LISTEN_FDNAMES=a:b:… has N sockets at fds 3… . They
// are read once, and the variables leave the environment at once, so that no worker (and no
// child of the program) takes them for its own.

/** The first fd systemd passes (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

export interface PassedFd {
  fd: number;
  /** Its FileDescriptorName (systemd's default is "unknown"). */
  name: string;
}

let passed: PassedFd[] | undefined;

/** The fds systemd passed this process; [] when there are none (or they are another pid's). */
export function passedFds(env: NodeJS.ProcessEnv = process.env): readonly PassedFd[] {
  if (passed !== undefined) return passed;
  const pid = Number(env.LISTEN_PID);
  const count = Number(env.LISTEN_FDS);
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  passed = [];
  if (pid !== process.pid || !Number.isSafeInteger(count) || count < 1) return passed;
  for (let i = 0; i < count; i++) passed.push({ fd: FIRST_FD + i, name: names[i] || 'unknown' });
  return passed;
}

/** Those of `fds` a `systemd:` address names: every one, or those called `name`. */
export function named(fds: readonly PassedFd[], name: string | undefined): PassedFd[] {
  return name === undefined ? [...fds] : fds.filter((f) => f.name === name);
}

const claimed = new Set<number>();

/** Marks a passed fd as in use (by a configured address, or a routed listen). */
export function claim(fd: number): void {
  claimed.add(fd);
}

/** The passed fds nothing uses yet: what an app's own listen() may be served from. */
export function unclaimed(): PassedFd[] {
  return passedFds().filter((f) => !claimed.has(f.fd));
}

/**
 * The FDNAME a master stores a socket under in systemd's FD store (FDSTORE=1), from the
 * address it serves: systemd hands it back in LISTEN_FDNAMES after a crash or a restart.
 * Names are printable ASCII without ':' and at most 255 bytes; undefined when it would not fit.
 */
export function storedName(kind: 'config' | 'route', address: string): string | undefined {
  const name = `${kind === 'config' ? 'overseer' : 'overseer-route'}.${encodeURIComponent(address)}`;
  return name.length <= 255 ? name : undefined;
}
