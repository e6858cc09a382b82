// A master ends with process.exit(), which drops whatever its own stdout and stderr still
// queue. To a pipe or a socket (a container's log pipe, journald's socket, `| tee`) Node writes
// asynchronously, so the last lines it passed on from its workers, and its own last warnings,
// would be lost. It waits until they are written, for at most FLUSH_MS: a reader that has
// stopped reading must not keep a stopped master alive.
import { within } from './within.js';

const FLUSH_MS = 2_000;

/** Exits with `code` once what the process has written to stdout and stderr is out. */
export async function exitOnceWritten(code: number): Promise<never> {
  process.exitCode = code;
  await within(Promise.all([written(process.stdout), written(process.stderr)]), FLUSH_MS);
  process.exit(code);
}

/** Settles once everything queued on `stream` so far has been written (or cannot be). */
function written(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => stream.write('', () => resolve()));
}
