// run()'s master, and `overseer run`'s: the master core (core.ts) and what only this master
// has: its listening sockets, the handoff (handoff/), the updater, systemd and its FD store,
// the health endpoint and drainDelay, heap compaction. The fetch pipeline (fetchers,
// archives, tar, zlib) is loaded only when a fetcher is configured.
import type { ResolvedConfig } from '../config.js';
import type { Master as MasterHandle, RunningMaster } from '../current-master.js';
import { debug } from '../log.js';
import { type Platform, platform as realPlatform } from '../os/index.js';
import type { Upgrader } from '../upgrade/upgrader.js';
import type { Binary } from './binary.js';
import type { Clock } from './clock.js';
import { MasterCore, noFetcher } from './core.js';
import type { ReexecEvent, RestartResult, UpdateOutcome } from './events.js';
import { MasterHandoff } from './handoff/master-handoff.js';
import { HealthEndpoint } from './health-endpoint.js';
import { Compactor } from './heap.js';
import type { WorkerLaunch } from './launch.js';
import { OwnSockets } from './own-sockets.js';
import type { ProgramHash } from './program-hash.js';
import { spawnProgramWorker } from './program-worker.js';
import type { MasterStatus } from './status.js';
import { meansNow } from './supervisor.js';
import { systemdNotifier } from './systemd.js';
import { Turns } from './turns.js';
import type { WorkerHandle } from './worker-handle.js';

export interface MasterOptions {
  config: ResolvedConfig;
  binary: Binary;
  /** The sha256 of binary.path, taken again when the file changes. */
  hash: ProgramHash;
  /** The master's EventEmitter, as currentMaster() hands it out. */
  events: MasterHandle;
  /** How workers start when they are not the program's own entry (`overseer run`). */
  launch?: WorkerLaunch | undefined;
  /** The OS seam and the clock: the real ones unless a test passes fakes. */
  platform?: Platform;
  clock?: Clock;
}

export class MasterProcess implements RunningMaster {
  readonly binary: Binary;
  readonly binPath: string;
  /** Resolves with the exit code once the master has shut down and let go of everything. */
  readonly done: Promise<number>;
  /** The master's EventEmitter, as currentMaster() hands it out. */
  readonly events: MasterHandle;

  readonly #config: ResolvedConfig;
  readonly #launch: WorkerLaunch | undefined;
  readonly #own: OwnSockets;
  readonly #core: MasterCore;
  readonly #systemd = systemdNotifier();
  readonly #health: HealthEndpoint;
  readonly #compactor: Compactor;
  readonly #handoff: MasterHandoff;
  readonly #hash: ProgramHash;
  #updater: Upgrader | undefined;
  /** An upgrade's switch and a handoff take turns. */
  readonly #turns = new Turns();

  constructor({ config, binary, hash, events, launch, platform = realPlatform, clock }: MasterOptions) {
    this.#config = config;
    this.#launch = launch;
    this.#own = new OwnSockets(config, launch);
    this.binary = binary;
    this.binPath = binary.path;
    this.#hash = hash;
    this.events = events;
    const systemd = this.#systemd;
    const { workers, restartMode, terminateTimeout, noRestart } = config;
    const forwardSignals = platform.forwardSignals && (launch?.forwardSignals ?? true);
    this.#core = new MasterCore({
      platform,
      clock,
      events,
      supervisor: { workers, restartMode, terminateTimeout, noRestart, forwardSignals, program: binary.path },
      seams: {
        spawn: (slot, id) => this.#spawn(slot, id),
        // A new master speaks for the service (READY=1, its MAINPID) once the handoff is its
        // own: until the commit the old one may yet kill it.
        allReady: () =>
          void this.#handoff.settle().then((serves) => {
            if (serves)
              systemd?.ready(`${workers} worker(s) ready on ${this.addresses.join(', ') || 'no address'}`);
          }),
        restarting: () => systemd?.reloading(),
        restarted: (r) => systemd?.restarted(r),
        settled: () => this.#compactor.soon(),
      },
      app: () => ({ entry: binary.path, name: config.name }),
      ownStatus: () => ({
        binHash: this.binHash,
        binPath: this.binPath,
        addresses: this.addresses,
        health: this.#health.address,
        fetcher: this.#updater?.status() ?? null,
      }),
      api: {
        restart: (reason) => this.restart(reason),
        triggerUpdate: () => this.triggerUpdate(),
        reexec: () => this.reexec(),
        logs: launch?.logs,
      },
    });
    const supervisor = this.#core.supervisor;
    this.#health = new HealthEndpoint(config.healthAddress, supervisor);
    this.#compactor = new Compactor(() => supervisor.restarting);
    this.#handoff = this.#newHandoff();
    this.done = supervisor.done.then((code) => {
      this.#letGo();
      debug('master: done, exit code %d', code);
      // Handed off, the service carries on in the new master: this one's stop is not a failure.
      return this.#core.exitCode(this.#handoff.handedOff ? 0 : code);
    });
  }

  get addresses(): readonly string[] {
    return this.#own.addresses();
  }

  /** The control socket's path, once it listens ('' when there is none). */
  get ipcPath(): string {
    return this.#core.ipcPath;
  }

  /** This master's name (config.name, else the app's own). */
  get name(): string {
    return this.#core.identity.name;
  }

  /** Makes the sockets, installs the signal handlers and starts the first workers. */
  async start(): Promise<void> {
    const c = this.#config;
    await this.#core.platform.reapOrphans(); // before the first spawn, so that every child of ours is known
    const inherited = await this.#handoff.take();
    this.#core.titleProcess();
    // A second master of one name stops here, before it makes a socket (a new master of a
    // handoff takes the old one's control socket: the name is its own).
    if (!inherited && c.ipcPath === undefined) await this.#core.refuseTakenName();
    const sockets = await this.#own.open(this.#core.platform, inherited, this.#systemd);
    this.events.emit('listening', { addresses: sockets.addresses });
    // A new master takes the health port once the old one has let go of it (the commit).
    if (!inherited) await this.#health.serve();
    this.#core.listenForSignals({
      restartSignal: c.restartSignal,
      restart: () => void this.restart('signal'),
      shutdown: (sig) => void this.shutdown(sig),
    });
    // After the signal handlers and before the first fork. A new master serves the old one's
    // control socket once the handoff is its own (settle()); its workers know the path now.
    if (c.ipcPath !== '') {
      if (inherited?.control) this.#core.ipcPath = inherited.control.path;
      else
        await this.#serveControl(c.ipcPath, undefined).catch((err: unknown) => {
          // Another master of this name came up since refuseTakenName(): nothing of ours runs yet.
          this.#letGo();
          throw err;
        });
    }
    this.#core.supervisor.start();
    // After the forks: the first fetch never delays the first worker.
    if (c.fetcher) {
      const { createUpgrader } = await import('./upgrader-wiring.js');
      this.#updater = await createUpgrader(c.fetcher, c, this, (err) => this.#core.reportError(err));
      this.#updater.rememberBad(inherited?.badHashes ?? []);
      if (!this.#core.supervisor.stopRequested) this.#updater.start();
    }
  }

  /** A rolling restart; the new workers run the program's file as it is now, and say its hash. */
  async restart(reason = 'api'): Promise<RestartResult> {
    await this.#hash.refresh();
    return this.#core.supervisor.restart(reason);
  }

  /** The sha256 of the program's file as the newest workers started it. */
  get binHash(): string {
    return this.#hash.value;
  }

  /** An upgrade swapped in the file of this hash. */
  set binHash(hash: string) {
    this.#hash.set(hash);
  }

  /**
   * Hands the sockets to a new master (`command`, or this command line); a call while one runs
   * joins it. An upgrade under way settles first (committed or rolled back): the new master
   * hashes, runs and remembers what this one ended with, never a version it rolls back after.
   * So does a restart under way: the commit would stop its new workers and fail it.
   */
  reexec(command?: readonly string[]): Promise<ReexecEvent> {
    return this.#turns.handoff(async () => {
      await this.#core.supervisor.restartsDone();
      return this.#handoff.reexec(command);
    });
  }

  /** Runs `fn` once the turn before it is over: an upgrade's switch and a handoff never overlap. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#turns.exclusive(fn);
  }

  /**
   * Graceful shutdown: forwards `signal`, waits up to terminateTimeout, then SIGKILLs. A
   * handoff under way is ended first (its new master killed), unless its commit is on the way.
   */
  shutdown(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    if (this.#handoff.inProgress) return this.#handoff.abort().then(() => this.shutdown(signal));
    const supervisor = this.#core.supervisor;
    if (this.#health.delayedShutdown) {
      // A second SIGTERM or SIGINT during drainDelay means "now", as during the drain: the
      // drain begins, and the supervisor takes this signal as its second.
      if (!meansNow(signal)) return this.#health.delayedShutdown;
      this.#health.drainNow();
      return this.#drain(signal);
    }
    if (!supervisor.stopping) {
      // After a handoff the service is not stopping: the new master carries it on.
      if (!this.#handoff.handedOff) this.#systemd?.stopping();
      debug('master: shutting down (%s), %d workers', signal, supervisor.workers().length);
      this.#updater?.stop();
      const delay = this.#handoff.handedOff ? 0 : this.#config.drainDelay;
      if (delay > 0) {
        supervisor.stopComing();
        return this.#health.delayShutdown(delay, () => this.#drain(signal));
      }
    }
    return this.#drain(signal);
  }

  /**
   * The drain: the workers are told, and the master lets go of its listening sockets (its
   * copies), so that once the workers have closed theirs a new connection is refused at once,
   * as after a plain server's close(), not queued until the master exits and then reset.
   */
  #drain(signal: NodeJS.Signals): Promise<number> {
    const done = this.#core.supervisor.shutdown(signal);
    this.#own.sockets?.shut();
    this.#launch?.shut();
    return done;
  }

  status(): MasterStatus {
    return this.#core.status();
  }

  metrics(): string {
    return this.#core.metrics();
  }

  /** One fetch cycle now (joining one under way); resolves with what it came to. */
  triggerUpdate(): Promise<UpdateOutcome> {
    return this.#updater?.trigger() ?? Promise.reject(noFetcher('overseer'));
  }

  /** Serves the API on the control socket at `path` (undefined: the name's), or on `fd` bound there. */
  #serveControl(path: string | undefined, fd: number | undefined): Promise<void> {
    const c = this.#config;
    const opts = { path, fd, handler: c.handler, securityDescriptor: c.ipcSecurityDescriptor };
    return this.#core.openControlSocket(() => opts);
  }

  #spawn(slot: number, id: number): WorkerHandle {
    const ctx = { ipcPath: this.ipcPath, binHash: this.#hash.current(), binPath: this.binPath };
    if (this.#launch) return this.#launch.spawn(slot, id, ctx);
    const { readyTimeout } = this.#config;
    return spawnProgramWorker(this.binary, this.#own.sockets!, { ...ctx, slot, id, readyTimeout });
  }

  /** The handoffs, either side, and what they work on. */
  #newHandoff(): MasterHandoff {
    return new MasterHandoff({
      core: this.#core,
      sockets: () => this.#own.sockets,
      launch: this.#launch,
      readyTimeout: this.#config.readyTimeout,
      badHashes: () => this.#updater?.status().badHashes ?? [],
      env: () => this.#systemd?.env ?? {},
      health: this.#health,
      serveControl: async ({ path, fd }) => {
        if (this.#config.ipcPath === '')
          this.#core.platform.closeFd(fd); // this one's config has none
        else await this.#serveControl(path, fd);
      },
      drain: () => void this.shutdown('SIGTERM'),
    });
  }

  /** Shutdown is over: the signals, sockets and control socket go. */
  #letGo(): void {
    this.#compactor.stop();
    this.#health.close();
    this.#own.sockets?.close(!this.#handoff.ownsFiles);
    this.#core.close(!this.#handoff.ownsFiles);
  }
}
