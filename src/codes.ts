// Every code overseer puts on an error or a warning, each with one line of meaning. Users
// compare against these (`err.code === codes.ERR_OVERSEER_READY_TIMEOUT`); the README lists
// them all, and a test checks that nothing in src/ uses a code that is not here.

const ERRORS = {
  // config and API use
  ERR_OVERSEER_INVALID_CONFIG:
    'a config field, a fetcher option or an `overseer/testing` option is wrong; the message names it',
  ERR_OVERSEER_ALREADY_RUNNING: 'run() was called a second time in this process',
  ERR_OVERSEER_NOT_RUNNING: 'restart() or triggerUpdate() was called before run()',
  ERR_OVERSEER_UNSUPPORTED: 'this platform cannot run the master/worker model and config.required is set',
  ERR_OVERSEER_NATIVE_UNAVAILABLE: 'the native addon could not be loaded; `cause` says why',
  ERR_OVERSEER_NO_ENTRY: 'there is no entry script to run in the workers',
  ERR_OVERSEER_UNTRUSTED_FILE:
    "a config or env file that another user than the master's (or root) could have written, itself or a directory above it; the message says which",
  ERR_OVERSEER_HANDOFF:
    'a master handoff (reexec) failed: the new master exited, timed out or broke the channel; or the master refused one (it is PID 1, or stopping)',
  ERR_OVERSEER_SHUTTING_DOWN: 'the master is shutting down, so it refused a restart or cut one short',
  // workers
  ERR_OVERSEER_READY_TIMEOUT: 'a new worker was not ready within readyTimeout and was killed',
  ERR_OVERSEER_WORKER_FAILED: "a new worker's program threw or rejected before it was ready",
  ERR_OVERSEER_WORKER_EXITED: 'a new worker exited before it was ready',
  ERR_OVERSEER_WORKER_STOPPED: 'a new worker was stopped (shutdown) before it was ready',
  ERR_OVERSEER_WORKER_CONTRACT:
    'a new worker broke the master↔worker contract before it was ready (the message says how) and was killed',
  ERR_OVERSEER_BAD_LISTENER: 'a worker inherited (or systemd passed) an fd that is not a listening socket',
  ERR_OVERSEER_LISTEN_LIMIT:
    "a worker's listen() would pass the bound on routed listens, per worker or per master (README: listen routing)",
  ERR_OVERSEER_SOCKET_HANDLE:
    "the master could not wrap a listening socket's fd in a libuv handle (the error has `errno`)",
  ERR_OVERSEER_NO_SYSTEMD_SOCKET:
    "a 'systemd:' address names no socket that systemd passed (LISTEN_FDS, LISTEN_FDNAMES)",
  ERR_OVERSEER_NO_LISTENER:
    'state.serve() has no listener to use (none is configured, or the one given is not one of state.listeners), or a worker did not get its listeners',
  ERR_OVERSEER_LISTENER_IN_USE: 'state.serve() was given a listener that another server already serves',
  ERR_OVERSEER_SERVE_ARGUMENT:
    'state.serve() takes a net.Server, a request handler or an app with callback()',
  // the control socket
  ERR_OVERSEER_NO_MASTER:
    'the overseer command found no master to act on: none of that name runs, none runs at all, or several could be meant and none was named',
  ERR_OVERSEER_IPC_UNSUPPORTED: 'this build of the addon has no control socket for this platform',
  ERR_OVERSEER_NAME_IN_USE:
    'a master with this name already runs (the error has its `pid`): stop it, or replace it with reexec',
  ERR_OVERSEER_IPC_DIR:
    "the directory of this user's control sockets is another user's, writable by others, or not a directory",
  ERR_OVERSEER_IPC_UNREACHABLE: "a worker's triggerUpdate() could not reach the control socket",
  ERR_OVERSEER_NOT_FOUND: 'no control-socket or health-endpoint route with that path (HTTP 404)',
  ERR_OVERSEER_METHOD:
    'a control-socket or health-endpoint route was called with the wrong method (HTTP 405)',
  ERR_OVERSEER_BODY_TOO_LARGE: 'a control-socket request had a body over 64 KiB (HTTP 413)',
  ERR_OVERSEER_BUSY: 'the control socket has its 64 connections open; try again (HTTP 503)',
  ERR_OVERSEER_HANDLER: 'config.handler threw while serving a control-socket request (HTTP 500)',
  ERR_OVERSEER_TRIGGER_FAILED: 'trigger-update failed in the master, which did not say why',
  ERR_OVERSEER_NO_FETCHER: 'trigger-update needs a fetcher, and none is configured (HTTP 409)',
  ERR_OVERSEER_NO_LOGS:
    "GET /overseer/logs needs a master that keeps its workers' output (`overseer run`; HTTP 409)",
  // fetching
  ERR_OVERSEER_FETCH_HTTP: 'an update server answered with a non-2xx status (the error has `status`)',
  ERR_OVERSEER_FETCH_RATE_LIMITED: "GitHub's rate limit; the error has `status` and `resetAt`",
  ERR_OVERSEER_FETCH_TIMEOUT:
    'no answer within timeout, a body silent for timeout, or a download past deadline',
  ERR_OVERSEER_FETCH_TOO_SLOW: 'a download slower than minBytesPerSecond over a window of timeout',
  ERR_OVERSEER_FETCH_TOO_LARGE:
    'a version larger than maxBytes (by Content-Length, as it arrived, gunzipped, or a release archive extracted)',
  ERR_OVERSEER_FETCH_FAILED: 'a connection to an update server failed or broke',
  ERR_OVERSEER_FETCH_TRUNCATED: 'a download ended before its Content-Length',
  ERR_OVERSEER_FETCH_BAD_RESPONSE:
    'an update server sent something malformed (JSON, a release manifest, checksums, no matching asset)',
  ERR_OVERSEER_FETCH_INVALID_RESULT: "a fetcherFunc's function resolved to something that is not a version",
  // upgrading
  ERR_OVERSEER_STAGE: 'the new version could not be written next to binPath',
  ERR_OVERSEER_EMPTY_CANDIDATE: 'the new version is empty',
  ERR_OVERSEER_CHECKSUM: 'the new version does not match its published sha256',
  ERR_OVERSEER_SIGNATURE:
    'the new version does not match its ed25519 signature, or one half of the check is missing',
  ERR_OVERSEER_PRE_UPGRADE: 'config.preUpgrade threw or rejected, which cancels the upgrade',
  ERR_OVERSEER_SANITY_CHECK:
    'the new version failed its sanity check (exit code, or not printing the token last)',
  ERR_OVERSEER_SANITY_TIMEOUT: "the new version's sanity check did not finish within sanityCheckTimeout",
  ERR_OVERSEER_KNOWN_BAD: 'this version failed before and is not tried again',
  ERR_OVERSEER_UPGRADE_FAILED: "the new version's workers failed to become ready; it was rolled back",
  ERR_OVERSEER_UPGRADE_UNHEALTHY:
    "a new version's worker crashed within upgradeHealthWindow; it was rolled back",
  ERR_OVERSEER_NO_GOOD_VERSION:
    'a release manifest marked the running version bad, and the master has no good version to go back to',
  ERR_OVERSEER_ARCHIVE_LAYOUT: 'release archives need binPath under a symlinked release directory',
  ERR_OVERSEER_ARCHIVE_UNSAFE: 'a release archive has an entry that would land outside the release',
  ERR_OVERSEER_ARCHIVE_ENTRY: 'a release archive has no file at the entry path',
  ERR_OVERSEER_ARCHIVE_BAD:
    "a release archive could not be read: not gzip, cut short, not a tar, or past tar's decompression ratio (the error has its `cause`)",
} as const;

const WARNINGS = {
  OVERSEER_DISABLED: 'overseer cannot run the master/worker model here and runs the program in-process',
  OVERSEER_WORKER_FAILED: 'a worker failed to start outside a restart; it is retried with backoff',
  OVERSEER_WORKER_CRASHED: 'a worker died; it is replaced with backoff (or the master exits, with noRestart)',
  OVERSEER_WORKER_CONTRACT:
    'a worker broke the master↔worker contract (garbage on its channel, a message over a bound or outside the contract, a flood, replies left unread, a listen it was not routed) and was SIGKILLed, as a crash; the warning says what it did',
  OVERSEER_WORKER_KILLED: 'a draining worker had not exited at terminateTimeout and was SIGKILLed',
  OVERSEER_WORKER_HELD_OPEN:
    "a worker exited and a process it started still held its channel or output pipes a second later: the master closed its end (the output's once quiet)",
  OVERSEER_EXIT_FAILURE:
    'the master exits non-zero, and says why: the app never started, a crash loop at the stop, a worker SIGKILLed at the stop, or noRestart',
  OVERSEER_DRAIN_TIMEOUT:
    'a draining worker closed what was still open at terminateTimeout (the warning names it)',
  OVERSEER_RESTART_FAILED: 'a restart failed; the running workers keep serving',
  OVERSEER_RESTART_UNREACHABLE: "a worker's restart() could not reach the master",
  OVERSEER_UPGRADE_FAILED: 'an upgrade failed; the running version keeps serving',
  OVERSEER_FETCH_INIT: "the fetcher's init() failed; there are no automatic updates",
  OVERSEER_IPC_DISABLED: 'the control socket could not be created; signals still work',
  OVERSEER_IPC_REFUSED: 'the control socket refused a client of another user',
  OVERSEER_FD_EXHAUSTED:
    'the master ran out of file descriptors (EMFILE, ENFILE): a worker start, a routed listen or a control connection failed; it carries on',
  OVERSEER_HANDOFF_TAKEOVER:
    'the old master died during a handoff, before its commit; the new master serves in its place',
  OVERSEER_HEALTH_FAILED: 'the health endpoint (config.healthAddress) could not listen after a handoff',
  OVERSEER_ENV_FILE:
    "`overseer run`'s env file could not be read at a worker's start; its last contents were used",
} as const;

export type ErrorCode = keyof typeof ERRORS;
export type WarningCode = keyof typeof WARNINGS;

/**
 * System error codes that overseer raises itself, as Node would for the same failure, and Node's
 * own codes where overseer does Node's part (the master's end of a worker's IPC channel).
 */
export type SystemCode =
  | 'EEXIST'
  | 'EADDRINUSE'
  | 'ENOTSUP'
  | 'ETIMEDOUT'
  | 'ERR_IPC_CHANNEL_CLOSED'
  | 'ERR_IPC_DISCONNECTED'
  | 'ERR_MISSING_ARGS'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_INVALID_HANDLE_TYPE'
  | 'ERR_OUT_OF_RANGE';

function names<T extends object>(registry: T): { readonly [K in keyof T]: K } {
  return Object.freeze(Object.fromEntries(Object.keys(registry).map((k) => [k, k]))) as {
    readonly [K in keyof T]: K;
  };
}

/** Every error code, as a constant: `codes.ERR_OVERSEER_READY_TIMEOUT === 'ERR_OVERSEER_READY_TIMEOUT'`. */
export const codes = names(ERRORS);
/** Every warning code (the `code` of an OverseerWarning). */
export const warningCodes = names(WARNINGS);

/** What a code means, in one line; undefined for a code overseer does not make. */
export function describeCode(code: string): string | undefined {
  // Own keys only: 'toString' or '__proto__' would find what every object inherits.
  if (Object.hasOwn(ERRORS, code)) return (ERRORS as Record<string, string>)[code];
  if (Object.hasOwn(WARNINGS, code)) return (WARNINGS as Record<string, string>)[code];
  return undefined;
}
