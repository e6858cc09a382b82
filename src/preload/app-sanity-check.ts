// A new version's sanity check under `overseer run`: the candidate app starts as a worker
// would, and passes once it is as far as being ready (its first listen, its
// `process.send('ready')`, or with --ready none one second alive), without binding any
// socket: the token is printed and the process exits there.
import net from 'node:net';
import { READY_MESSAGE, type ReadyMode } from '../contract/app.js';
import { sanityCheck } from '../contract/sanity-check.js';

const ALIVE_MS = 1_000;

export function startSanityCheck(ready: ReadyMode): void {
  net.Server.prototype.listen = function listen(this: net.Server): net.Server {
    sanityCheck();
    return this;
  } as typeof net.Server.prototype.listen;
  if (ready === 'message') {
    // No IPC channel in a sanity check: the app's process.send('ready') is heard here.
    process.send ??= (m: unknown): boolean => {
      if (m === READY_MESSAGE) sanityCheck();
      return true;
    };
  }
  if (ready === 'none') setTimeout(sanityCheck, ALIVE_MS);
}
