// overseer/testing: a real State for the unit tests of a program, without a master. Its
// listeners are real sockets on loopback made the way the master makes them, and its
// gracefulShutdown aborts when the test says so, so a test can check its program's drain
// (tableflip ships testing/ for the same reason).
import { listenAddresses } from '../config.js';
import { codedError, invalidFor } from '../errors.js';
import { DEFAULTS } from '../option-table.js';
import { durationOption, integerOption, type Options, onlyKnown, stringOption } from '../options.js';
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

const invalid = invalidFor('overseer/testing', 'options.');
const KNOWN = ['addresses', 'terminateTimeout', 'upgradeGrace', 'workerId', 'id'] as const;

export async function createTestState(options: TestStateOptions = {}): Promise<TestState> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid('', 'must be an object');
  }
  const o = options as Options;
  onlyKnown(o, KNOWN, invalid);
  if (o.addresses !== undefined && (!Array.isArray(o.addresses) || o.addresses.length === 0)) {
    throw invalid('addresses', 'must be a non-empty array of address strings');
  }
  const addresses = listenAddresses(o.addresses ?? ['127.0.0.1:0'], 'addresses', invalid);
  const terminateTimeout = durationOption(o, 'terminateTimeout', DEFAULTS.terminateTimeout, 1, invalid);
  const upgradeGrace = durationOption(o, 'upgradeGrace', DEFAULTS.upgradeGrace, 0, invalid);
  const workerId = integerOption(o, 'workerId', 1, { min: 1, max: Number.MAX_SAFE_INTEGER }, invalid);
  const id = stringOption(o, 'id', invalid, true) ?? 'test';
  if (!nativeAvailable()) {
    throw codedError(
      Error,
      'ERR_OVERSEER_NATIVE_UNAVAILABLE',
      'overseer/testing makes listeners as the master does, and needs the native addon',
      nativeLoadError(),
    );
  }
  const sockets = await platform.openSockets(addresses, { sets: 1, reusePort: false, backlog: 511 });
  const controller = new AbortController();
  const closed = new AbortController();
  const state = buildState({
    enabled: true,
    id,
    workerId,
    listeners: sockets.inProcess(0),
    retire: controller.signal,
    binPath: process.argv[1] ?? '',
    ipcPath: '',
    terminateTimeout,
    upgradeGrace,
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
