// `overseer run [options] <script> [args…]`: this process becomes the master of an
// unmodified app, which runs in the workers under the preload, so none of the app's own
// modules load here. Resolves with the master's exit code.

import { codedError, errorMessage } from '../errors.js';
import type { Fetcher } from '../fetcher/fetcher.js';
import { hashFile } from '../hash.js';
import { configureLogging, debug } from '../log.js';
import { AppWorkers } from '../master/app-workers.js';
import { MasterProcess } from '../master/master.js';
import { attachEngine, Master } from '../master-handle.js';
import { os } from '../os/index.js';
import { nativeAvailable, nativeLoadError } from '../os/native.js';
import { type RunOptions, runOptions } from './run-config.js';

export const RUN_USAGE = `usage: overseer run [options] <script> [args…]

Runs <script> in workers with hitless restarts: its own server.listen() calls are
served from sockets this process (the master) keeps, and an old worker drains before it
hears --kill-signal. Restart with SIGUSR2 or \`overseer restart\`; stop with SIGTERM.

options (each also a field of the config file, in camelCase):
  -w, --workers N           workers to run, or 'max' (default 1)
      --ready MODE          listening (default) | message (process.send('ready')) | none
      --ready-timeout MS    how long a new worker may take to be ready (default 30000)
      --terminate-timeout MS  how long an old worker may drain before it is killed (default 30000)
      --kill-signal SIG     what the app hears after its drain (default SIGTERM)
      --restart-signal SIG  what restarts the workers (default SIGUSR2)
      --restart-mode MODE   overlap (default) | sequential
      --reuse-port          a SO_REUSEPORT socket per worker for each TCP port
      --upgrade-grace MS    how long WebSockets and event streams get to close (default 5000)
      --health-address ADDR /livez and /readyz for probes (':9090' is loopback; '0.0.0.0:9090')
      --drain-delay MS      on SIGTERM, fail /readyz and keep serving this long before draining
      --node-args "ARGS"    node's own options for the workers
      --env-file FILE       variables for the workers, read again at each worker's start
      --log-prefix          prefix each line of the workers' output with [worker N]
      --log-lines N         lines kept for \`overseer logs\` (default 1000)
      --ipc-path PATH       where the control socket lives ('' for none)
      --fetch-file FILE     upgrade the script when FILE changes
      --fetch-url URL       upgrade the script from URL
      --fetch-interval MS   how often to look for a new version
  -c, --config FILE         the config file (default: overseer.config.json or .js beside the script)
      --debug               print the master's debug log
      --no-warn             silence overseer's warnings
  -h, --help                show this help
`;

async function fetcherFor(fetch: RunOptions['fetch']): Promise<Fetcher | undefined> {
  if (fetch.file === undefined && fetch.url === undefined) return undefined;
  const { FileFetcher, HTTPFetcher } = await import('../fetcher/index.js');
  const interval = fetch.interval === undefined ? {} : { interval: fetch.interval };
  return fetch.file === undefined
    ? new HTTPFetcher({ url: fetch.url!, ...interval })
    : new FileFetcher({ path: fetch.file, ...interval });
}

/** Runs the master until it is done; 'help' prints the usage. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const opts = await runOptions(argv);
  if (opts === 'help') {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  configureLogging(opts.engine);
  if (!os.supported()) {
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
    binHash: await hashFile(binary.path),
    events: handle,
    launch: workers,
  });
  attachEngine(handle, master);
  debug(
    'overseer run: %s, %d worker(s)%s',
    binary.path,
    config.workers,
    opts.configFile ? ` (${opts.configFile})` : '',
  );
  await master.start();
  return master.done;
}
