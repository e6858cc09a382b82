// Files the master reads and trusts: `overseer run`'s config file, which is code the master
// runs (a .js file) or names what it runs (nodeArgs, env.NODE_OPTIONS, fetchUrl), and its env
// file. Each is trusted only if no one but the master's user (or root) could have written it,
// as ssh's StrictModes asks (the judging is the platform's: os/posix-file-trust.ts), so a file
// another user planted beside a root-owned script in /tmp is refused, never run as root.
import { codedError } from './errors.js';
import { platform } from './os/index.js';

/** Throws ERR_OVERSEER_UNTRUSTED_FILE, naming `what` (the file as the user gave it) and why, unless `file` is trusted. */
export function mustTrust(file: string, what: string): void {
  const why = platform.untrustedFile(file);
  if (why === undefined) return;
  throw codedError(
    Error,
    'ERR_OVERSEER_UNTRUSTED_FILE',
    `overseer run: ${what} is refused: ${why} (a file the master reads must be owned by its user or root, and writable by no one else)`,
  );
}
