// The master handoff (reexec): a new master replaces this one without closing a socket, as
// nginx's binary upgrade and HAProxy's -x do. The old master starts the new one (the same
// command line by default, so node and the program are whatever is installed now), passes it
// every listening socket and the control socket over a private unix socket (SCM_RIGHTS), and
// waits: the new master starts its workers on those very sockets and says it is ready; only
// then does the old one drain its workers and exit. A new master that exits, breaks the
// channel or is not ready within readyTimeout is killed, and the old one carries on.
import { type ChildProcess, spawn } from 'node:child_process';
import { codedError, errorMessage } from '../errors.js';
import { debug } from '../log.js';
import { os } from '../os/index.js';
import type { HandedSockets, HandoffConnection } from '../os/types.js';
import { HANDOFF_ENV, type HandoffSockets, type ReexecResult } from './handoff-protocol.js';

/** What the old master hands over, as raw fds. */
export interface HandoffSource {
  sockets: HandedSockets['sockets'];
  routes: { key: string; fd: number; path?: string }[];
  control: { path: string; fd: number } | undefined;
  state: HandoffSockets['state'];
  /** The environment the new master gets beyond this process's (its NOTIFY_SOCKET, say). */
  env: Record<string, string>;
  readyTimeout: number;
  /** Right before the commit: what the new master takes only then (the health port) is let go. */
  beforeCommit(): void;
}

/** What a new master takes over. */
export interface Inherited {
  sockets: HandedSockets;
  routes: { key: string; fd: number; path?: string }[];
  control: { path: string; fd: number } | undefined;
  state: HandoffSockets['state'];
  /** Says it is ready; resolves true once the old master has committed (it drains now). */
  ready(): Promise<boolean>;
  /** Says why it cannot go on. */
  fail(err: unknown): void;
}

/** The old master's side. Resolves with the new master's process once it is ready and told. */
export async function handOff(
  source: HandoffSource,
  command: readonly string[] | undefined,
): Promise<{ child: ChildProcess; result: ReexecResult }> {
  const t0 = Date.now();
  const transport = await os.handoff();
  const listener = await transport.listen();
  const [file, ...args] = command ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(file!, args, {
    env: { ...process.env, ...source.env, [HANDOFF_ENV]: listener.path },
    stdio: 'inherit',
  });
  debug('handoff: new master pid %s: %s', child.pid, [file, ...args].join(' '));
  const gone = new Promise<never>((_, reject) => {
    const why = (how: string) =>
      reject(codedError(Error, 'ERR_OVERSEER_HANDOFF', `handoff: the new master ${how} before it was ready`));
    child.once('exit', (code, signal) => why(`exited (${signal ?? `code ${code}`})`));
    child.once('error', (err) => why(`could not start (${err.message})`));
  });
  gone.catch(() => {});
  let conn: HandoffConnection | undefined;
  try {
    const deadline = t0 + source.readyTimeout;
    conn = await Promise.race([listener.accept(child.pid ?? -1, source.readyTimeout), gone]);
    const fds: number[] = [];
    const index = (fd: number): number => fds.push(fd) - 1;
    const message: HandoffSockets = {
      kind: 'sockets',
      sockets: source.sockets.map((s) => ({ ...s, fd: index(s.fd) })),
      routes: source.routes.map((r) => ({ ...r, fd: index(r.fd) })),
      control: source.control && { path: source.control.path, fd: index(source.control.fd) },
      state: source.state,
    };
    await conn.send(message, fds);
    const { message: answer } = await Promise.race([conn.receive(Math.max(1, deadline - Date.now())), gone]);
    if (answer.kind === 'failed') throw codedError(Error, 'ERR_OVERSEER_HANDOFF', `handoff: ${answer.error}`);
    if (answer.kind !== 'ready')
      throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: an unexpected answer');
    source.beforeCommit();
    await conn.send({ kind: 'commit' });
    debug('handoff: new master %d is ready; committed', answer.pid);
    return { child, result: { ok: true, pid: answer.pid, durationMs: Date.now() - t0 } };
  } catch (err) {
    child.kill('SIGKILL');
    const error =
      (err as { code?: string }).code === 'ETIMEDOUT'
        ? codedError(
            Error,
            'ERR_OVERSEER_HANDOFF',
            `handoff: the new master was not ready within ${source.readyTimeout} ms`,
          )
        : err instanceof Error
          ? err
          : new Error(String(err));
    if ((error as { code?: string }).code === undefined)
      (error as Error & { code: string }).code = 'ERR_OVERSEER_HANDOFF';
    debug('handoff failed: %s', errorMessage(error));
    return { child, result: { ok: false, durationMs: Date.now() - t0, error } };
  } finally {
    conn?.close();
    listener.close();
  }
}

/** The new master's side: what the old master handed over, when this process is one (OVERSEER_HANDOFF). */
export async function takeHandoff(env: NodeJS.ProcessEnv = process.env): Promise<Inherited | undefined> {
  const at = env[HANDOFF_ENV];
  delete env[HANDOFF_ENV]; // its workers are not new masters
  if (!at) return undefined;
  const transport = await os.handoff();
  const conn = await transport.connect(at, 10_000);
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
  return {
    sockets: { sockets: message.sockets.map((s) => ({ ...s, fd: fd(s.fd) })) },
    routes: message.routes.map((r) => ({ ...r, fd: fd(r.fd) })),
    control: message.control && { path: message.control.path, fd: fd(message.control.fd) },
    state: message.state,
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
    fail(err: unknown): void {
      void conn.send({ kind: 'failed', error: errorMessage(err) }).finally(() => conn.close());
    },
  };
}
