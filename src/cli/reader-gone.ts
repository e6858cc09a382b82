// A reader that has gone (`overseer events | head -2`) ends a command quietly, with its own
// exit code, as it ends `cat`: an EPIPE on stdout or stderr is no error, and ends whatever
// the command would go on writing (a followed stream, top's snapshots). Any other write
// error stays one.
import { errorCode } from '../errors.js';

const gone = new AbortController();

/** Aborts once the reader of stdout or stderr has gone (after watchReaders()). */
export const readerGone: AbortSignal = gone.signal;

export function watchReaders(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err) => {
      if (errorCode(err) !== 'EPIPE') throw err;
      gone.abort();
    });
  }
}
