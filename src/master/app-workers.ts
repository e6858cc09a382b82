// The workers of `overseer run`: an unmodified app, started with the preload, whose own
// server.listen() calls are served from sockets the master makes and keeps while the app serves
// them (listen routing). Readiness is the app's listens (what its slot serves: slot-listens.ts),
// its process.send('ready'), or its start; its output passes through the master line by line.
import fs from 'node:fs';
import { parseEnv } from 'node:util';
import { APP_PRELOAD, READY_MESSAGE, type ReadyMode } from '../contract/app.js';
import { workerEnvironment } from '../contract/env.js';
import { codedError, errorMessage } from '../errors.js';
import { warn } from '../log.js';
import { platform } from '../os/index.js';
import { mustTrust } from '../trusted-file.js';
import type { Binary } from './binary.js';
import type { LaunchContext, WorkerLaunch } from './launch.js';
import { ListenRoutes } from './listen-routes.js';
import { LogBuffer } from './log-buffer.js';
import { SlotListens } from './slot-listens.js';
import { shortMessagesOnly } from './worker-channel.js';
import { WorkerOutput } from './worker-output.js';
import { WorkerProcess } from './worker-process.js';

export interface AppSettings {
  /** The app's entry file, absolute. */
  script: string;
  args: string[];
  /** Node's own options for the workers (`--max-old-space-size=512`). */
  nodeArgs: string[];
  /** Variables the workers get on top of the master's environment. */
  env: Record<string, string>;
  /** A dotenv file read at each worker's start, so a restart picks up its changes. */
  envFile: string | undefined;
  cwd: string;
  ready: ReadyMode;
  killSignal: NodeJS.Signals;
  logPrefix: boolean;
  logLines: number;
  reusePort: boolean;
  terminateTimeout: number;
  readyTimeout: number;
  upgradeGrace: number;
}

/** Reads a dotenv file; a coded error names it when it cannot be read or is not to be trusted. */
export function readEnvFile(file: string): Record<string, string> {
  mustTrust(file, `envFile ${file}`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw codedError(
      TypeError,
      'ERR_OVERSEER_INVALID_CONFIG',
      `overseer run: envFile ${file}: ${errorMessage(err)}`,
    );
  }
  return Object.fromEntries(
    Object.entries(parseEnv(text)).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

export class AppWorkers implements WorkerLaunch {
  readonly logs: LogBuffer;
  readonly forwardSignals = false;
  readonly #routes: ListenRoutes;
  readonly #output: WorkerOutput;
  /** What each slot serves: when its next worker is ready, and which routed sockets stay. */
  readonly #slots: SlotListens;
  #envFromFile: Record<string, string>;
  /** Takes a routed socket the master let go of out of systemd's FD store. */
  #unstore: ((key: string) => void) | undefined;

  constructor(private readonly settings: AppSettings) {
    this.#routes = new ListenRoutes(settings.reusePort);
    this.#slots = new SlotListens(this.#routes, true);
    this.#routes.onReleased = (key) => this.#unstore?.(key);
    this.logs = new LogBuffer(settings.logLines);
    this.#output = new WorkerOutput(this.logs, settings.logPrefix);
    this.#envFromFile = settings.envFile === undefined ? {} : readEnvFile(settings.envFile);
  }

  /** The app as a "binary": how a worker, and a new version's sanity check, run a file. */
  binary(): Binary {
    const s = this.settings;
    return {
      path: s.script,
      sea: false,
      commandFor: (file) => ({
        command: process.execPath,
        args: [...s.nodeArgs, '--import', APP_PRELOAD, file, ...s.args],
        env: workerEnvironment('app', { ready: s.ready }),
      }),
    };
  }

  handoffRoutes(): { key: string; fd: number; path?: string }[] {
    return this.#routes.handoff();
  }

  adoptRoutes(routes: readonly { key: string; fd: number; path?: string }[]): Promise<void> {
    return this.#routes.adopt(routes);
  }

  storeRoutes(store: (key: string, fd: number) => void, unstore: (key: string) => void): void {
    this.#routes.onMade = store;
    this.#unstore = unstore;
  }

  ownFiles(own: boolean): void {
    this.#routes.keepFiles = !own;
    // A new master that took over: what the old one's workers served and its own do not, goes.
    if (own) this.#routes.release();
  }

  addresses(): readonly string[] {
    return this.#routes.addresses();
  }

  shut(): void {
    this.#routes.shut();
  }

  spawn(slot: number, id: number, ctx: LaunchContext): WorkerProcess {
    const s = this.settings;
    const { command, args, env: check } = this.binary().commandFor(ctx.binPath);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.#workerEnvFromFile(),
      ...s.env,
      ...check,
      ...workerEnvironment('app', {
        workerId: id,
        masterPid: process.pid,
        terminateTimeout: s.terminateTimeout,
        upgradeGrace: s.upgradeGrace,
        killSignal: s.killSignal,
      }),
    };
    const handle = new WorkerProcess(
      id,
      slot,
      {
        command,
        args,
        env,
        listeners: { stdio: [], attach: () => {} },
        // fd 3 is the app's, as in a process of its own (not the channel, which comes after it):
        // a library that writes to fd 3 cannot reach the master.
        stdio: ['ignore', 'pipe', 'pipe', 'ignore'],
        // Its own process group: a terminal's Ctrl+C reaches the master, which drains the
        // workers, instead of killing them mid-request.
        options: { cwd: s.cwd, detached: platform.ownProcessGroup },
        route: this.#slots.route(slot),
        readiness: 'external',
      },
      s.readyTimeout,
    );
    handle.passesOn(this.#output.attach(id, 'stdout', handle.child.stdout));
    handle.passesOn(this.#output.attach(id, 'stderr', handle.child.stderr));
    this.#slots.follow(handle);
    this.#becomeReadyWhen(handle, s.ready);
    return handle;
  }

  #becomeReadyWhen(handle: WorkerProcess, mode: ReadyMode): void {
    if (mode === 'none') handle.once('online', () => handle.becomeReady());
    else if (mode === 'message') {
      // Heard until it is ready, and for it no message longer than the contract's is decoded:
      // a program's message is decoded only for a listener (worker-channel.ts).
      const onMessage = shortMessagesOnly((m: unknown) => {
        if (m !== READY_MESSAGE) return;
        handle.child.off('message', onMessage);
        handle.becomeReady();
      });
      handle.child.on('message', onMessage);
    } else {
      this.#slots.readyWhenServing(handle, ['listening']);
    }
  }

  /** The env file as it is now; if it cannot be read any more, as it was (with a warning). */
  #workerEnvFromFile(): Record<string, string> {
    const file = this.settings.envFile;
    if (file === undefined) return {};
    try {
      this.#envFromFile = readEnvFile(file);
    } catch (err) {
      warn(`${errorMessage(err)}; the worker starts with its last contents`, 'OVERSEER_ENV_FILE');
    }
    return this.#envFromFile;
  }
}
