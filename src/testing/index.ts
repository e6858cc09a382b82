// overseer/testing: a real State for the unit tests of a program, without a master. Its
// listeners are real sockets on loopback made the way the master makes them, and its
// gracefulShutdown aborts when the test says so, so a test can check its program's drain
// (tableflip ships testing/ for the same reason).
import { parseAddress } from '../address.js';
import { codedError } from '../errors.js';
import { DEFAULTS } from '../option-table.js';
import { platform } from '../os/index.js';
import { nativeAvailable, nativeLoadError } from '../os/native.js';
import { buildState, type State } from '../worker/state.js';

export interface TestStateOptions {
  /** Listen addresses, as in run()'s config. Default ['127.0.0.1:0'] (a free port). */
  addresses?: string[];
  /** The drain's bound, in ms. Default 30000, as in run(). */
  terminateTimeout?: number;
  /** ms the program gets to close WebSockets and event streams itself. Default 5000, as in run(). */
  upgradeGrace?: number;
  /** state.workerId. Default 1. */
  workerId?: number;
  /** state.id. Default 'test'. */
  id?: string;
}

export interface TestState {
  /** Hand this to the program: `await program(t.state)`. */
  readonly state: State;
  /**
   * Retires the State, as a restart or the master's shutdown does: its servers begin to drain,
   * and state.gracefulShutdown aborts once their plain HTTP/1 clients are off.
   */
  shutdown(reason?: string): void;
  /** Shuts down (if not yet) and closes the sockets it made. */
  close(): void;
}

export async function createTestState(options: TestStateOptions = {}): Promise<TestState> {
  if (!nativeAvailable()) {
    throw codedError(
      Error,
      'ERR_OVERSEER_NATIVE_UNAVAILABLE',
      'overseer/testing makes listeners as the master does, and needs the native addon',
      nativeLoadError(),
    );
  }
  const texts = options.addresses ?? ['127.0.0.1:0'];
  const addresses = texts.map((a, i) => parseAddress(a, `addresses[${i}]`));
  const sockets = await platform.openSockets(addresses, { sets: 1, reusePort: false, backlog: 511 });
  const controller = new AbortController();
  const closed = new AbortController();
  const state = buildState({
    enabled: true,
    id: options.id ?? 'test',
    workerId: options.workerId ?? 1,
    listeners: sockets.inProcess(0),
    retire: controller.signal,
    binPath: process.argv[1] ?? '',
    ipcPath: '',
    terminateTimeout: options.terminateTimeout ?? DEFAULTS.terminateTimeout,
    upgradeGrace: options.upgradeGrace ?? DEFAULTS.upgradeGrace,
    closed: closed.signal,
  });
  const shutdown = (reason = 'test'): void => {
    if (!controller.signal.aborted) controller.abort(new Error(`overseer/testing: shutdown (${reason})`));
  };
  return {
    state,
    shutdown,
    close: () => {
      shutdown('close');
      closed.abort();
      sockets.close();
    },
  };
}

export type { State } from '../worker/state.js';
