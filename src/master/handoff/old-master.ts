// The old master's side of a handoff (reexec): a new master replaces this one without
// closing a socket, as nginx's binary upgrade and HAProxy's -x do. This side starts the new
// master (the same command line by default, so node and the program are whatever is
// installed now), passes it every listening socket and the control socket over a private
// unix socket (SCM_RIGHTS), and waits: the new master starts its workers on those very
// sockets and says it is ready; only then does this one commit, drain its workers and exit.
// A new master that exits, breaks the channel or is not ready within readyTimeout is killed,
// and this one carries on.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { codedError, errorMessage } from '../../errors.js';
import { debug } from '../../log.js';
import type { HandedSockets, HandoffConnection } from '../../os/types.js';
import { realClock } from '../clock.js';
import type { HandoffHost } from './host.js';
import {
  HANDOFF_ENV,
  type HandedRoute,
  type HandoffSockets,
  handoffFailed,
  type ReexecResult,
} from './protocol.js';

/** How long a broken channel waits for the new master's exit, which says why it broke. */
const EXIT_AFTER_HANGUP_MS = 2_000;

/** What the old master hands over, as raw fds. */
interface HandoffSource {
  sockets: HandedSockets['sockets'];
  routes: HandedRoute[];
  control: { path: string; fd: number } | undefined;
  state: HandoffSockets['state'];
}

/**
 * Starts a new master (`command`, or this process's own command line) on `master`'s sockets;
 * resolves once it is ready and the commit is sent (ok), or it has failed and this master
 * carries on. Either way the master's 'reexec' event tells.
 */
export async function handOver(
  master: HandoffHost,
  command: readonly string[] | undefined,
  abort: AbortSignal,
): Promise<ReexecResult> {
  const t0 = realClock.now();
  const refuse = (why: string): ReexecResult => handoffFailed(why, Math.round(realClock.now() - t0));
  if (master.core.supervisor.stopRequested) return refuse('the master is shutting down');
  // When a pid namespace's init exits, the kernel kills every process in it: the new master too.
  if (process.pid === 1)
    return refuse(
      "this master is PID 1 (a container's init), whose exit would end the container, the new master with it: restart the workers with `overseer restart`, or roll out a new container (a rolling update)",
    );
  const handed = master.sockets()?.handoff?.();
  if (handed === undefined) {
    try {
      await master.core.platform.handoff(); // the platform's own refusal, when it has one
    } catch (err) {
      return { ok: false, durationMs: Math.round(realClock.now() - t0), error: err as Error };
    }
    return refuse('this master cannot hand its sockets over');
  }
  const control = master.core.control;
  const controlFd = control?.fd;
  const source: HandoffSource = {
    sockets: handed.sockets,
    routes: master.launch?.handoffRoutes() ?? [],
    control: control && controlFd !== undefined ? { path: control.path, fd: controlFd } : undefined,
    state: { ...master.core.supervisor.counters(), badHashes: master.badHashes() },
  };
  const result = await startNewMaster(master, source, command, abort);
  master.core.events.emit('reexec', result);
  if (!result.ok) await master.health.serve().catch(() => {});
  return result;
}

/**
 * Starts the new master and hands it `source`; commits once it is ready. `abort` (this master
 * is asked to stop) ends it before the commit: the new master is killed, and gone before this
 * resolves, so this master's end (which removes the socket files) never leaves it serving.
 */
async function startNewMaster(
  master: HandoffHost,
  source: HandoffSource,
  command: readonly string[] | undefined,
  abort: AbortSignal,
): Promise<ReexecResult> {
  const t0 = realClock.now();
  const readyTimeout = master.readyTimeout;
  const transport = await master.core.platform.handoff();
  const listener = await transport.listen();
  const [file, ...args] = command ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(file!, args, {
    env: { ...process.env, ...master.env(), [HANDOFF_ENV]: listener.path },
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
  const exited = new Promise<void>((resolve) => {
    if (child.pid === undefined) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => child.pid === undefined && resolve());
  });
  const aborted = new Promise<never>((_, reject) => {
    const stop = (): void =>
      reject(codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: aborted, this master is stopping'));
    if (abort.aborted) stop();
    else abort.addEventListener('abort', stop, { once: true });
  });
  aborted.catch(() => {});
  /** What the new master may end the handoff with, besides its answer. */
  const ends = [gone, aborted];
  let conn: HandoffConnection | undefined;
  try {
    const deadline = t0 + readyTimeout;
    conn = await Promise.race([listener.accept(child.pid ?? -1, readyTimeout), ...ends]);
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
    const { message: answer } = await Promise.race([
      conn.receive(Math.max(1, Math.ceil(deadline - realClock.now()))).catch(async (err: unknown) => {
        // A new master that gives up closes the channel a moment before its exit is seen: its
        // exit says why, not the hang-up. Bounded, and not past the deadline.
        const wait = Math.min(EXIT_AFTER_HANGUP_MS, deadline - realClock.now());
        if (wait > 0) await Promise.race([...ends, sleep(wait, undefined, { ref: false })]);
        throw err;
      }),
      ...ends,
    ]);
    if (answer.kind === 'failed') throw codedError(Error, 'ERR_OVERSEER_HANDOFF', `handoff: ${answer.error}`);
    if (answer.kind !== 'ready')
      throw codedError(Error, 'ERR_OVERSEER_HANDOFF', 'handoff: an unexpected answer');
    if (abort.aborted) await aborted;
    // From here on the new master is the one: a stop now is the new master's carrying on.
    // The health port goes to the new master with the commit.
    master.health.close();
    await conn.send({ kind: 'commit' });
    debug('handoff: new master %d is ready; committed', answer.pid);
    return { ok: true, pid: answer.pid, durationMs: Math.round(realClock.now() - t0) };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    const error =
      (err as { code?: string }).code === 'ETIMEDOUT'
        ? codedError(
            Error,
            'ERR_OVERSEER_HANDOFF',
            `handoff: the new master was not ready within ${readyTimeout} ms`,
          )
        : err instanceof Error
          ? err
          : new Error(String(err));
    if ((error as { code?: string }).code === undefined)
      (error as Error & { code: string }).code = 'ERR_OVERSEER_HANDOFF';
    debug('handoff failed: %s', errorMessage(error));
    return { ok: false, durationMs: Math.round(realClock.now() - t0), error };
  } finally {
    conn?.close();
    listener.close();
  }
}
