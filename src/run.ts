// run(): one call for both sides. In the master it owns the sockets and supervises the
// workers until shutdown, then exits the process with the last worker's exit code. In a
// worker it builds State and runs the program.
import fs from 'node:fs';
import { currentBinary, hashFile } from './binary.js';
import { type Config, resolveConfig } from './config.js';
import { configureLogging, debug, warn } from './debug.js';
import { runDisabled } from './disabled.js';
import { ENV, isWorkerProcess } from './env.js';
import { codedError, errorMessage } from './errors.js';
import type { UpdateOutcome } from './events.js';
import { ipcRequest } from './ipc-client.js';
import { Master } from './master.js';
import { nativeAvailable, nativeLoadError } from './native.js';
import { platform } from './platform/index.js';
import { isSupported } from './supported.js';
import { runWorker } from './worker.js';

let master: Master | undefined;
let workerRestartSignal: NodeJS.Signals | undefined;
let workerMasterPid = 0;
let workerIpcPath = '';

/** The master of this process, once run() has made it (undefined in workers). */
export function currentMaster(): Master | undefined {
  return master;
}

export async function run(config: Config): Promise<void> {
  sanityCheck();
  const cfg = resolveConfig(config);
  configureLogging(cfg);
  if (isWorkerProcess()) {
    workerRestartSignal = cfg.restartSignal;
    workerMasterPid = Number(process.env[ENV.masterPid] ?? process.ppid);
    workerIpcPath = process.env[ENV.ipcPath] ?? '';
    return runWorker(cfg);
  }
  if (master) throw codedError(Error, 'ERR_OVERSEER_ALREADY_RUNNING', 'overseer: run() was already called');

  let binary: ReturnType<typeof currentBinary> | undefined;
  let unsupported: string | undefined;
  try {
    binary = currentBinary();
  } catch (err) {
    unsupported = errorMessage(err);
  }
  if (!isSupported()) unsupported ??= unsupportedReason();
  if (unsupported !== undefined || binary === undefined) {
    if (cfg.required)
      throw codedError(
        Error,
        'ERR_OVERSEER_UNSUPPORTED',
        `overseer: ${unsupported} (config.required is set)`,
      );
    warn(`${unsupported}; running the program in this process without hitless restarts`, 'OVERSEER_DISABLED');
    const bin = binary?.path ?? process.argv[1] ?? '';
    return runDisabled(cfg, bin && fs.existsSync(bin) ? hashFile(bin) : '', bin);
  }

  platform.cleanupAfterUpgrade(binary.path);
  const m = new Master(cfg, binary, hashFile(binary.path));
  master = m;
  await m.start();
  const code = await m.done;
  process.exit(code);
}

function unsupportedReason(): string {
  if (!nativeAvailable()) return `the native addon is unavailable (${errorMessage(nativeLoadError())})`;
  return `${process.platform} is not supported by this build of the addon`;
}

/** Restarts the workers: directly in the master, by the restart signal from a worker. */
export function restart(): void {
  if (master) {
    void master.restart('api');
    return;
  }
  if (workerRestartSignal !== undefined) {
    if (platform.restartSignal) {
      process.kill(workerMasterPid > 0 ? workerMasterPid : process.ppid, workerRestartSignal);
    } else {
      // No signals to other processes here (Windows): ask over the control socket.
      ipcRequest(workerIpcPath, 'POST', '/overseer/restart').catch((err: unknown) => {
        warn(`restart() could not reach the master: ${errorMessage(err)}`, 'OVERSEER_RESTART_UNREACHABLE');
      });
    }
    return;
  }
  throw codedError(
    Error,
    'ERR_OVERSEER_NOT_RUNNING',
    'overseer: restart() needs a running overseer (call run() first)',
  );
}

/**
 * Checks for a new version now. In the master it runs a fetch cycle (joining one under way)
 * and resolves with its outcome. In a worker it asks the master over the control socket,
 * and falls back to the restart signal when the socket cannot be reached.
 */
export async function triggerUpdate(): Promise<UpdateOutcome | { result: 'signalled' }> {
  if (master) return master.triggerUpdate();
  if (workerRestartSignal === undefined) {
    throw codedError(Error, 'ERR_OVERSEER_NOT_RUNNING', 'overseer: triggerUpdate() needs a running overseer');
  }
  if (workerIpcPath !== '') {
    try {
      const { status, body } = await ipcRequest(workerIpcPath, 'POST', '/overseer/trigger-update');
      const answer = body as { ok?: boolean; error?: string; code?: string } & UpdateOutcome;
      if (status === 200) return answer;
      throw codedError(
        Error,
        answer.code ?? 'ERR_OVERSEER_TRIGGER_FAILED',
        `overseer: trigger-update: ${answer.error ?? `HTTP ${status}`}`,
      );
    } catch (err) {
      if ((err as { code?: string }).code?.startsWith('ERR_OVERSEER_')) throw err;
      debug(
        'trigger-update over %s failed (%s); sending %s instead',
        workerIpcPath,
        errorMessage(err),
        workerRestartSignal,
      );
    }
  }
  if (!platform.restartSignal) {
    throw codedError(
      Error,
      'ERR_OVERSEER_IPC_UNREACHABLE',
      "overseer: triggerUpdate() could not reach the master's control socket",
    );
  }
  process.kill(workerMasterPid > 0 ? workerMasterPid : process.ppid, workerRestartSignal);
  return { result: 'signalled' };
}

/**
 * The upgrade sanity check: when this process is a candidate being checked
 * (OVERSEER_BIN_CHECK is set), print the token and exit. run() calls it first; call it
 * earlier yourself if your program does slow work before run().
 */
export function sanityCheck(): void {
  const token = process.env[ENV.binCheck];
  if (token === undefined) return;
  fs.writeSync(1, `${token}\n`);
  process.exit(0);
}
