// One worker process as the master sees it: spawn, readiness, listen routing, drain and exit.
// Every transition happens once; a message that arrives after the exit is stale and ignored. The
// worker is untrusted input: a message that breaks the contract, or a channel bound it breaks
// (worker-channel.ts, POSIX), gets it killed with a warning that says what it did.
import { type ChildProcess, type SpawnOptions, type StdioOptions, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { nodeChannelEnvironment } from '../contract/env.js';
import {
  type ListeningInfo,
  type ListenRequest,
  type MasterMessage,
  message,
  onMessages,
  type RouteError,
  type WorkerMessage,
  workerMessageProblem,
} from '../contract/messages.js';
import { causeCode, codedError, errorCode, errorMessage } from '../errors.js';
import { debug, warn } from '../log.js';
import { type ListenerPassing, platform } from '../os/index.js';
import { noteFdExhaustion } from './fd-exhaustion.js';
import { listenLimit, ROUTED_LISTENS, routeKey } from './listen-routes.js';
import { within } from './within.js';
import { WorkerChannel } from './worker-channel.js';
import type { WorkerExit, WorkerHandle, WorkerPhase } from './worker-handle.js';
import { WorkerListens } from './worker-listens.js';
import type { PassedOutput } from './worker-output.js';

/**
 * How long after a worker's exit the master waits for the rest of the output it passes on, and
 * for its channel to close. A child's 'exit' can come before its pipes have been read to their
 * end; a process the worker started may hold them open for good, and then the master lets go.
 */
const OUTPUT_AFTER_EXIT_MS = 1_000;

/** The master's side of listen routing: the socket for what a worker asks to listen on. */
export type ListenRoute = (request: ListenRequest) => Promise<{ key: string; handle: unknown }>;

export interface SpawnSpec {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** How this worker gets its configured listeners (inherited fds, or handles on request). */
  listeners: ListenerPassing;
  /** stdio 0-2 (and any further fds, after the listeners). Default: shared with the master. */
  stdio?: StdioOptions;
  /** Further spawn options (node:cluster's settings): cwd, serialization, windowsHide, uid, gid. */
  options?: Pick<SpawnOptions, 'cwd' | 'serialization' | 'windowsHide' | 'uid' | 'gid' | 'detached'>;
  /** Serves the worker's own server.listen() calls (cluster workers, `overseer run`). */
  route?: ListenRoute;
  /**
   * 'message' (default): ready when the worker side says so. 'external': when the owner
   * calls becomeReady() (a cluster worker is ready when it listens as its predecessor did).
   */
  readiness?: 'message' | 'external';
}

/**
 * Events: 'online' (the worker side is up), 'listening' (info: a routed server listens),
 * 'closed' (key: a routed server that listened closed), 'leaving' (the worker disconnects on
 * its own), 'spawnFailed' (its process never ran: it has ended, and its child has no 'exit'
 * to come, nor a 'disconnect' from the master's own channel).
 */
export class WorkerProcess extends EventEmitter implements WorkerHandle {
  readonly id: number;
  readonly slot: number;
  readonly startedAt = new Date();
  readyAt: Date | undefined;
  phase: WorkerPhase = 'starting';
  /** Set once the master asked this worker to go; its exit is then expected. */
  drainRequested = false;
  exit: WorkerExit | undefined;
  readonly child: ChildProcess;
  /** Resolves when the program is ready; rejects if it fails, exits or times out first. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited, whatever the reason. */
  readonly exited: Promise<WorkerExit>;
  /** What it asked to route, was routed and listens on: checked, bounded, gone with it. */
  readonly listens = new WorkerListens(() => this.drainRequested);
  private killTimer: NodeJS.Timeout | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  private settleReady: (err?: Error) => void = () => {};
  /** The master's own end of the channel (POSIX); undefined where it is Node's. */
  readonly #channel: WorkerChannel | undefined;
  #broken = false;
  /** The output the master passes on (`overseer run`): each settles once all of it has been. */
  readonly #output: PassedOutput[] = [];
  #online = false;
  /** It was told the master is stopping (not only that a restart retires it). */
  #toldStop = false;

  constructor(id: number, slot: number, spec: SpawnSpec, readyTimeout: number) {
    super();
    this.id = id;
    this.slot = slot;
    // stdio: 0-2, the configured listeners (POSIX) at 3…, then the IPC channel.
    const io = (spec.stdio as unknown[] | undefined) ?? ['inherit', 'inherit', 'inherit'];
    // A stdio array that places the IPC channel itself (node:cluster's settings.stdio) is kept.
    const layout =
      io.includes('ipc') && spec.listeners.stdio.length === 0
        ? io
        : [...io.slice(0, 3), ...spec.listeners.stdio, ...io.slice(3).filter((x) => x !== 'ipc'), 'ipc'];
    // POSIX: the channel is a plain socket whose end the master reads itself; the worker's Node
    // makes its end its IPC channel, as it would Node's own.
    const own = platform.ownChannel;
    const channelFd = layout.indexOf('ipc');
    const serialization = spec.options?.serialization ?? 'json';
    const stdio = (own ? layout.map((x, i) => (i === channelFd ? 'pipe' : x)) : layout) as StdioOptions;
    const env = own ? { ...spec.env, ...nodeChannelEnvironment(channelFd, serialization) } : spec.env;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err ? reject(err) : resolve());
    });
    // Nobody may be awaiting readiness (a worker replaced after a crash); don't let that be unhandled.
    this.ready.catch(() => {});
    let settleExit: (e: WorkerExit) => void = () => {};
    this.exited = new Promise<WorkerExit>((resolve) => {
      settleExit = resolve;
    });

    this.child = spawn(spec.command, spec.args, {
      serialization: 'json',
      ...spec.options,
      stdio,
      env,
    });
    debug('worker %d (slot %d) spawned as pid %s', id, slot, this.child.pid);
    this.#channel =
      own &&
      new WorkerChannel(this.child, channelFd, {
        serialization,
        sendFd: own.sendFd,
        onViolation: (what) => this.#broke(what),
      });
    spec.listeners.attach(this.child);

    this.readyTimer = setTimeout(() => {
      if (this.phase !== 'starting') return;
      this.settleReady(
        codedError(
          Error,
          'ERR_OVERSEER_READY_TIMEOUT',
          `worker ${id} was not ready within ${readyTimeout} ms`,
        ),
      );
      this.kill('SIGKILL');
    }, readyTimeout);

    onMessages<WorkerMessage>(this.child, (m) => {
      if (this.phase === 'exited' || this.#broken) return; // stale, or from a worker being killed
      const problem = workerMessageProblem(m);
      if (problem !== undefined) {
        this.#broke(`sent a message that breaks the contract (${problem})`);
        return;
      }
      switch (m.act) {
        case 'ready':
          if (spec.readiness !== 'external') this.becomeReady();
          break;
        case 'failed': {
          if (this.phase !== 'starting') break;
          const err = codedError(
            Error,
            'ERR_OVERSEER_WORKER_FAILED',
            `worker ${id} failed to start: ${m.message}`,
          );
          if (m.stack) err.stack = m.stack;
          clearTimeout(this.readyTimer);
          this.settleReady(err);
          break;
        }
        case 'online':
          // Once: a second would move a cluster worker's state back from 'listening'.
          if (this.#online) debug('worker %d sent online again; ignored', id);
          else this.emit('online');
          this.#online = true;
          break;
        case 'listen':
          this.route(spec.route, m.seq, m.request);
          break;
        case 'listening':
          if (this.listens.listened(m.info.key)) this.emit('listening', m.info);
          else this.#broke(`sent a 'listening' for ${shown(m.info.key)}, which it was not routed`);
          break;
        case 'closed':
          if (this.listens.closed(m.key)) this.emit('closed', m.key);
          else this.#broke(`sent a 'closed' for ${shown(m.key)}, where it did not listen`);
          break;
        case 'leaving':
          this.emit('leaving');
          this.send(message<MasterMessage>({ act: 'ack', seq: m.seq }));
          break;
      }
    });
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.phase === 'exited') return;
      const wasStarting = this.phase === 'starting';
      this.phase = 'exited';
      this.exit = { code, signal };
      this.listens.gone();
      clearTimeout(this.killTimer);
      clearTimeout(this.readyTimer);
      if (wasStarting) {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        this.settleReady(
          codedError(
            Error,
            'ERR_OVERSEER_WORKER_EXITED',
            `worker ${id} exited with ${how} before it was ready`,
          ),
        );
      }
      debug('worker %d (pid %s) exited: code %s signal %s', id, this.child.pid, code, signal);
      const exit = this.exit;
      if (this.#output.length === 0) settleExit(exit);
      else void this.#outputPassedOn().then(() => settleExit(exit));
      setTimeout(() => this.#letGo(), OUTPUT_AFTER_EXIT_MS).unref();
    };
    this.child.on('exit', onExit);
    this.child.on('error', (err) => {
      debug('worker %d: %s', id, err.message);
      if (this.child.pid !== undefined) return; // a failed send or kill: it still runs
      // spawn failed (EMFILE, EAGAIN, ENOMEM…): there will be no 'exit' event.
      const why = `worker ${id} could not be started: ${err.message}`;
      noteFdExhaustion(err, `worker ${id} could not be started`);
      this.settleReady(codedError(Error, causeCode(err, 'ERR_OVERSEER_WORKER_FAILED'), why, err));
      onExit(null, null);
      this.emit('spawnFailed');
    });
  }

  /** Output the master passes on: the exit counts once all of it has been (see OUTPUT_AFTER_EXIT_MS). */
  passesOn(output: PassedOutput): void {
    this.#output.push(output);
  }

  /** Resolves when every output has been passed on, or OUTPUT_AFTER_EXIT_MS from now. */
  async #outputPassedOn(): Promise<void> {
    if (await within(Promise.all(this.#output.map((o) => o.passedOn)), OUTPUT_AFTER_EXIT_MS)) return;
    debug('worker %d: its output had not ended %d ms after its exit', this.id, OUTPUT_AFTER_EXIT_MS);
  }

  /**
   * OUTPUT_AFTER_EXIT_MS after the exit, what a process the worker started still holds open is
   * the master's to close: kept, each restart would leave it fds (and the channel would deliver
   * that process's messages as the dead worker's).
   */
  #letGo(): void {
    const heldOpen = (what: string): void =>
      warn(
        `worker ${this.id} (pid ${this.child.pid}) exited, and a process it started still held its ${what}; the master closed its end`,
        'OVERSEER_WORKER_HELD_OPEN',
      );
    if (this.#channel && !this.#channel.closed) {
      this.#channel.destroy();
      heldOpen('channel');
    }
    for (const o of this.#output) o.release(() => heldOpen(o.stream));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Marks the worker ready (by its message, or by its owner when readiness is 'external'). */
  becomeReady(): void {
    if (this.phase !== 'starting') return;
    this.phase = 'ready';
    this.readyAt = new Date();
    clearTimeout(this.readyTimer);
    this.settleReady();
  }

  /**
   * Asks the worker to drain: the shutdown message (and `signal` when given, as the Go
   * master forwards signals), then SIGKILL at `terminateTimeout`.
   */
  drain(terminateTimeout: number, signal?: NodeJS.Signals, stopping = false): Promise<WorkerExit> {
    if (this.phase === 'exited') return this.exited;
    this.drainRequested = true;
    // Only a ready worker gets the signal, and before the message: a worker still starting
    // may not have its handlers yet, and one that has already begun to exit (it drained on
    // the message) has dropped them, so the signal's default action would turn its clean
    // exit into a death by signal.
    if (signal !== undefined && this.phase === 'ready') this.kill(signal);
    if (this.phase === 'draining') {
      // A restart's old worker, still draining when the master stops: it hears the stop too.
      if (stopping && !this.#toldStop) this.#shutdown(true);
      return this.exited;
    }
    if (this.phase === 'starting') {
      const stopped = `worker ${this.id} was stopped before it was ready`;
      this.settleReady(codedError(Error, 'ERR_OVERSEER_WORKER_STOPPED', stopped));
    }
    this.phase = 'draining';
    this.#shutdown(stopping);
    this.killTimer = setTimeout(() => {
      warn(
        `worker ${this.id} (pid ${this.child.pid}) had not exited ${terminateTimeout} ms (terminateTimeout) after it was asked to drain; killed`,
        'OVERSEER_WORKER_KILLED',
      );
      this.kill('SIGKILL');
    }, terminateTimeout);
    return this.exited;
  }

  /** The shutdown message; `stop` when the master is stopping. */
  #shutdown(stop: boolean): void {
    this.#toldStop = stop;
    this.send(message<MasterMessage>({ act: 'shutdown', ...(stop ? { stop: true as const } : {}) }));
  }

  /** Kills a worker that failed to start. Its exit is expected: the failure was already handled. */
  discard(): void {
    this.drainRequested = true;
    this.kill('SIGKILL');
  }

  /** Its exit is expected from now on (it was told to disconnect, or is leaving by itself). */
  expectExit(): void {
    this.drainRequested = true;
  }

  /**
   * The worker broke the contract (`what` it did): it is killed, which the supervisor takes as a
   * crash; a worker still starting fails to start (a restart's new worker fails the restart).
   */
  #broke(what: string): void {
    if (this.phase === 'exited' || this.#broken) return;
    this.#broken = true;
    warn(`worker ${this.id} (pid ${this.child.pid}) ${what}; killed`, 'OVERSEER_WORKER_CONTRACT');
    if (this.phase === 'starting') {
      clearTimeout(this.readyTimer);
      this.settleReady(codedError(Error, 'ERR_OVERSEER_WORKER_CONTRACT', `worker ${this.id} ${what}`));
    }
    // Killed before its channel closes, so it dies by the signal, not by its master's going.
    this.kill('SIGKILL');
    this.#channel?.destroy();
  }

  kill(signal: NodeJS.Signals): void {
    if (this.phase === 'exited') return;
    try {
      this.child.kill(signal);
    } catch (err) {
      debug('kill %s: %s', signal, (err as Error).message);
    }
  }

  /** One of our messages to the worker, if it still listens; `sent` hears how the write went. */
  send(m: MasterMessage, handle?: unknown, sent?: (err: Error | null) => void): void {
    if (!this.child.connected) return;
    this.child.send(m, handle as never, (err) => {
      if (err) debug('worker %d: send %s: %s', this.id, m.act, err.message);
      sent?.(err);
    });
  }

  private route(route: ListenRoute | undefined, seq: number, request: ListenRequest): void {
    // A worker on its way out gets no new socket (it would keep it alive); it stops waiting
    // for the answer when it disconnects.
    if (this.drainRequested) return;
    const fail = (err: unknown): void => {
      const e = err as Partial<RouteError>;
      const error: RouteError = { message: errorMessage(err) };
      const code = errorCode(err);
      if (code !== undefined) error.code = code;
      if (typeof e.errno === 'number') error.errno = e.errno;
      if (typeof e.syscall === 'string') error.syscall = e.syscall;
      this.send(message<MasterMessage>({ act: 'routed', seq, key: '', error }));
    };
    if (route === undefined) {
      fail(codedError(Error, 'ERR_OVERSEER_UNSUPPORTED', 'overseer: this master does not route listens'));
      return;
    }
    const asked = routeKey(request);
    if (!this.listens.ask(asked)) {
      fail(listenLimit(`a worker has ${ROUTED_LISTENS.perWorker} addresses routed at most`));
      return;
    }
    route(request).then(
      ({ key, handle }) => {
        this.listens.answered(asked, true);
        this.send(message<MasterMessage>({ act: 'routed', seq, key }), handle, (err) => {
          // Made, but no fd was left for the copy that goes to the worker (nothing went: the
          // channel stays): its listen fails with EMFILE, as if the socket could not be made.
          if (!noteFdExhaustion(err, `the socket for a worker's listen on ${key} could not be sent`)) return;
          this.listens.notSent(asked);
          fail(err);
        });
      },
      (err: unknown) => {
        this.listens.answered(asked, false);
        fail(err);
      },
    );
  }
}

/** A key a worker sent, as a warning shows it: quoted, and cut short. */
function shown(key: unknown): string {
  const text = JSON.stringify(key) ?? String(key);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

export type { ListeningInfo };
