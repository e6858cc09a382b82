// Waiting for a file to change: fs.watch on its directory for near-instant pickup (a
// directory watch also sees a file replaced by rename, and one that does not exist yet),
// and polling every `interval` ms because watches miss events on network filesystems and
// fail outright when the directory is missing or inotify is exhausted.
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { debug } from '../log.js';

/**
 * Resolves once `changed()` says so; it is asked on every watch event and poll tick, one
 * at a time. Rejects with `signal.reason` on abort. Either way, no watcher or timer is left.
 */
export function waitForChange(
  file: string,
  interval: number,
  signal: AbortSignal,
  changed: () => Promise<boolean>,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    let watcher: FSWatcher | undefined;

    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(poller);
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onAbort = (): void => finish(signal.reason);

    // Events come in bursts; coalesce them into one check at a time plus one to follow.
    const check = async (): Promise<void> => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          if (await changed()) finish();
        } while (again && !done);
      } catch (err) {
        finish(err);
      } finally {
        checking = false;
      }
    };

    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const poller = setInterval(() => void check(), interval);
    signal.addEventListener('abort', onAbort, { once: true });
    const base = basename(file);
    try {
      watcher = watch(dirname(file), (_event, name) => {
        // Some platforms give no file name; then any event in the directory counts.
        if (!done && (name === null || name === base)) void check();
      });
      watcher.on('error', (err) => {
        debug(
          'FileFetcher: watch on %s failed, polling every %d ms: %s',
          dirname(file),
          interval,
          err.message,
        );
        watcher?.close();
        watcher = undefined;
      });
    } catch (err) {
      debug('FileFetcher: cannot watch %s, polling every %d ms: %s', dirname(file), interval, String(err));
    }
    // A change between the caller's last look and the watch starting would otherwise wait a poll.
    void check();
  });
}
