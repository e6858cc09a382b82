// The one typed loader of the C++ addon. Importing this module never throws and loads
// nothing: the addon is loaded on first use. When it cannot be loaded (no prebuild for this
// platform, no compiler), every function that needs it throws ERR_OVERSEER_NATIVE_UNAVAILABLE
// with the load error as `cause`.
import path from 'node:path';
import { debug } from '../log.js';
import { packageRoot } from '../package-root.js';
import { addonFile } from './addon-file.js';
import { explainLoadFailure } from './native-help.js';

/** What describeFd() reports about a file descriptor. */
export interface FdDescription {
  family: 'IPv4' | 'IPv6' | 'unix' | 'other';
  type: 'stream' | 'dgram' | 'seqpacket' | 'other';
  listening: boolean;
  /** IP address for IPv4/IPv6 sockets. */
  address?: string;
  /** Port for IPv4/IPv6 sockets. */
  port?: number;
  /** Bound path for unix sockets ('' when unbound, '@name' for the abstract namespace). */
  path?: string;
}

export interface PeerCredentials {
  uid: number;
  gid: number;
  /** -1 where the platform cannot tell. */
  pid: number;
}

export interface ReceivedMessage {
  /** The data payload; empty when the peer closed its end. */
  data: Buffer;
  /** Received descriptors, each already CLOEXEC. The caller owns and must close them. */
  fds: number[];
}

export interface TcpListenOptions {
  host: string;
  port: number;
  backlog: number;
  ipv6Only: boolean;
  reusePort: boolean;
}

/**
 * A named-pipe server made by the addon's pipeListen (Windows only). Its accept loop runs
 * on its own thread; the next pipe instance always exists before a connected one is handed
 * over, so the name is never unowned while the server listens. Like a net.Server, it keeps
 * the event loop alive until close() (or unref()).
 */
export interface PipeServer {
  /** The pipe path, as given to pipeListen. */
  readonly name: string;
  /**
   * Stops accepting: cancels the pending ConnectNamedPipe, joins the accept thread and closes
   * the waiting instance, so the name is free when it returns. Pipes already handed to JS
   * stay open; pipes connected but not yet handed over are closed. Idempotent.
   */
  close(): void;
  ref(): void;
  unref(): void;
  /** The DACL of the waiting instance as SDDL (GetSecurityInfo on the server's own handle; connects nothing). */
  security(): string;
}

/**
 * Called on the JS thread for each connected pipe with a CRT fd (uv_open_osfhandle) that the
 * callee owns: wrap it with `new net.Socket({ fd, readable: true, writable: true })`. Called
 * with an error (code, errno, syscall, winerror) when the accept loop hits one; it keeps going.
 */
export type PipeConnectionCallback = (err: NodeJS.ErrnoException | null, fd?: number) => void;

/**
 * The functions every build exports (native/surface.h, OVERSEER_POSIX_FUNCTIONS). On
 * Windows each one throws ENOTSUP.
 */
export interface PosixFunctions {
  /** socket + setsockopt + bind + listen. Returns a CLOEXEC listening fd that libuv never sees. */
  tcpListen(options: TcpListenOptions): number;
  /** A listening unix stream socket bound to `path` (which must not exist). */
  unixListen(path: string, backlog: number): number;
  describeFd(fd: number): FdDescription;
  getCloexec(fd: number): boolean;
  setCloexec(fd: number, on: boolean): void;
  /** dup(2), with the new fd CLOEXEC. */
  dup(fd: number): number;
  close(fd: number): void;
  /** A connected unix stream socket fd (CLOEXEC, blocking), made off the event loop. */
  unixConnect(path: string, timeoutMs: number): Promise<number>;
  /** accept(2) off the event loop; the new fd is CLOEXEC. */
  accept(listenFd: number, timeoutMs: number): Promise<number>;
  /** sendmsg(2) with SCM_RIGHTS, off the event loop. */
  sendFds(sockFd: number, fds: number[], data: Buffer, timeoutMs: number): Promise<void>;
  /** recvmsg(2) with MSG_CMSG_CLOEXEC, off the event loop. MSG_CTRUNC is an EMSGSIZE error. */
  recvFds(sockFd: number, maxFds: number, maxBytes: number, timeoutMs: number): Promise<ReceivedMessage>;
  peerCredentials(fd: number): PeerCredentials;
  /** Linux PR_SET_PDEATHSIG; ENOTSUP elsewhere. */
  setParentDeathSignal(signal: number): void;
  /**
   * Linux: when the parent dies, this process is SIGKILLed `delayMs` later (PR_SET_PDEATHSIG
   * with a realtime signal of the addon's own, whose handler starts a one-shot timer); returns
   * that signal's number. ENOTSUP elsewhere.
   */
  killOnParentDeath(delayMs: number): number;
  /**
   * Linux: attaches a classic BPF program to `fd`'s SO_REUSEPORT group that picks a socket by
   * a hash of the client's address modulo `groupSize`. ENOTSUP elsewhere.
   */
  steerReuseportBySource(fd: number, groupSize: number): void;
  /** waitpid(pid, WNOHANG): true when it reaped `pid` (a zombie child libuv does not own). */
  reapChild(pid: number): boolean;
  /** One datagram to an AF_UNIX SOCK_DGRAM path ('@name': the abstract namespace), with `fds` (SCM_RIGHTS). */
  sendDatagram(path: string, data: Buffer, fds?: number[]): void;
}

/**
 * The functions only Windows builds export (native/surface.h, OVERSEER_WIN32_FUNCTIONS).
 * Win32 errors carry `winerror` (the raw number) besides code/errno/syscall;
 * ERROR_ACCESS_DENIED is EACCES, as a unix socket's mode is.
 */
export interface WindowsFunctions {
  /**
   * A named-pipe server on `name` (`\\.\pipe\<name>`): CreateNamedPipeW with
   * FILE_FLAG_OVERLAPPED, FILE_FLAG_FIRST_PIPE_INSTANCE on the first instance (a taken name
   * throws EADDRINUSE), PIPE_REJECT_REMOTE_CLIENTS, byte mode, and the security descriptor
   * `sddl` (undefined: defaultPipeSddl()). An invalid SDDL, or one without a DACL (which
   * would allow everyone), throws EINVAL. A custom SDDL must grant the server's own user
   * FILE_CREATE_PIPE_INSTANCE (FA does), or every instance after the first fails.
   */
  pipeListen(name: string, sddl: string | undefined, onConnection: PipeConnectionCallback): PipeServer;
  /**
   * Connects to a pipe off the event loop (CreateFileW with SECURITY_SQOS_PRESENT |
   * SECURITY_IDENTIFICATION, so the server cannot act as us), waiting up to timeoutMs while
   * every instance is busy. Resolves with an fd for `new net.Socket({ fd, readable: true,
   * writable: true })`. ENOENT: no such pipe; EACCES: its DACL refuses us; ETIMEDOUT: busy
   * past the deadline (EBUSY when timeoutMs is 0).
   */
  pipeConnect(name: string, timeoutMs: number): Promise<number>;
  /**
   * The DACL of a path as SDDL. A pipe is opened as a client for READ_CONTROL, which its
   * server sees as a connection that closes at once; in the server's own process prefer
   * PipeServer.security().
   */
  pipeSecurity(path: string): string;
  /**
   * The default pipe SDDL: a protected DACL granting FILE_ALL_ACCESS (FA) to the process
   * token's user, SYSTEM and Administrators only, e.g. `D:P(A;;FA;;;S-1-5-21-…)(A;;FA;;;SY)(A;;FA;;;BA)`,
   * in the canonical form Windows prints back.
   */
  defaultPipeSddl(): string;
  /** True under Wine, which enforces neither pipe DACLs nor FILE_FLAG_FIRST_PIPE_INSTANCE. */
  isWine(): boolean;
}

/**
 * The addon's surface: the functions native/surface.h lists (the Windows ones absent from
 * POSIX builds) and the platform it was built for. test/native-surface.test.ts checks the
 * header and the built addon against it. Every failure is an Error with code, errno and syscall.
 */
export interface NativeBinding extends PosixFunctions, Partial<WindowsFunctions> {
  /** The platform this addon was compiled for, as process.platform names it. */
  readonly platform: string;
}

export interface NativeUnavailableError extends Error {
  code: 'ERR_OVERSEER_NATIVE_UNAVAILABLE';
}

let loaded = false;
let binding: NativeBinding | undefined;
let loadError: unknown;

function load(): NativeBinding | undefined {
  if (loaded) return binding;
  loaded = true;
  if (process.env.OVERSEER_NO_NATIVE === '1') {
    loadError = new Error('disabled by OVERSEER_NO_NATIVE=1');
    return undefined;
  }
  try {
    binding = ownBuild() ?? nodeGypBuild();
  } catch (err) {
    loadError = new Error(explainLoadFailure(err), { cause: err });
    debug('native addon unavailable: %s', (loadError as Error).message);
  }
  return binding;
}

/** The addon opened with process.dlopen when its file is plain (addon-file.ts), else undefined. */
function ownBuild(): NativeBinding | undefined {
  const file = addonFile(packageRoot());
  if (file === undefined) return undefined;
  const module = { exports: {} as NativeBinding };
  process.dlopen(module, path.toNamespacedPath(file));
  return module.exports;
}

/**
 * Whatever node-gyp-build finds, where the file is not plain. node:module is taken here, not
 * imported: it loads Node's source-map support with it, which a worker needs nowhere else.
 */
function nodeGypBuild(): NativeBinding {
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  return (require('node-gyp-build') as (dir: string) => NativeBinding)(packageRoot());
}

/** True when the addon loads (it is loaded by the first call that needs it). */
export function nativeAvailable(): boolean {
  return load() !== undefined;
}

/** Why the addon did not load, or undefined when it did. */
export function nativeLoadError(): unknown {
  load();
  return loadError;
}

function unavailable(): NativeUnavailableError {
  const reason = loadError instanceof Error ? loadError.message : String(loadError);
  const err = new Error(`overseer's native addon is not available: ${reason}`, {
    cause: loadError,
  }) as NativeUnavailableError;
  err.code = 'ERR_OVERSEER_NATIVE_UNAVAILABLE';
  return err;
}

/** The loaded addon, or a throw of ERR_OVERSEER_NATIVE_UNAVAILABLE. */
export function native(): NativeBinding {
  const b = load();
  if (b === undefined) throw unavailable();
  return b;
}
