// `overseer run [options] <script> [args…]`: this process becomes the master of an
// unmodified app, which runs in the workers under the preload, so none of the app's own
// modules load here. Resolves with the master's exit code.

import { attachRunningMaster, Master } from '../current-master.js';
import { codedError, errorMessage } from '../errors.js';
import type { Fetcher } from '../fetcher/fetcher.js';
import { configureLogging, debug } from '../log.js';
import { AppWorkers } from '../master/app-workers.js';
import { exitOnceWritten } from '../master/exit-once-written.js';
import { MasterProcess } from '../master/master-process.js';
import { ProgramHash } from '../master/program-hash.js';
import { platform } from '../os/index.js';
import { nativeAvailable, nativeLoadError } from '../os/native.js';
import { runUsage } from './option-docs.js';
import { type RunOptions, runOptions } from './run-options.js';

async function fetcherFor(fetch: RunOptions['fetch']): Promise<Fetcher | undefined> {
  if (fetch.file === undefined && fetch.url === undefined) return undefined;
  const { FileFetcher, HTTPFetcher } = await import('../fetcher/index.js');
  const options = {
    manifest: fetch.manifest,
    ...(fetch.interval === undefined ? {} : { interval: fetch.interval }),
  };
  return fetch.file === undefined
    ? new HTTPFetcher({ url: fetch.url!, ...options })
    : new FileFetcher({ path: fetch.file, ...options });
}

/**
 * The master's pid, first of all (once it holds its name and its sockets, so that a master
 * that is refused says only why): started through npx, npm or a shell, the pid a user sees
 * is theirs, and a signal to it never reaches the master.
 */
function announce(restartSignal: NodeJS.Signals): void {
  const pid = process.pid;
  const signals = platform.restartSignal
    ? `, or kill -${restartSignal.replace(/^SIG/, '')} ${pid}; stop: kill ${pid}`
    : '';
  process.stderr.write(`overseer run: the master is pid ${pid} (restart: overseer restart${signals})\n`);
}

/** Runs the master until it is done, then exits with its code; 'help' prints the usage. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const opts = await runOptions(argv);
  if (opts === 'help') {
    process.stdout.write(runUsage());
    return 0;
  }
  configureLogging(opts.engine);
  if (!platform.supported()) {
    const why = nativeAvailable()
      ? `${process.platform} is not supported by this build of the addon`
      : `the native addon is unavailable (${errorMessage(nativeLoadError())})`;
    throw codedError(Error, 'ERR_OVERSEER_UNSUPPORTED', `overseer run: ${why}`);
  }
  const workers = new AppWorkers(opts.app);
  const binary = workers.binary();
  const config = { ...opts.engine, fetcher: await fetcherFor(opts.fetch) };
  const handle = new Master();
  const master = new MasterProcess({
    config,
    binary,
    hash: await ProgramHash.of(binary.path),
    events: handle,
    launch: workers,
  });
  attachRunningMaster(handle, master);
  handle.once('listening', () => announce(config.restartSignal));
  debug(
    'overseer run: %s, %d worker(s)%s',
    binary.path,
    config.workers,
    opts.configFile ? ` (${opts.configFile})` : '',
  );
  await master.start();
  // Done once it says so, whatever its workers' pipes still hold, once its own output is out.
  return exitOnceWritten(await master.done);
}
