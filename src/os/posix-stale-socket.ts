// Is a unix socket file still served? A SIGKILLed process leaves its socket file behind,
// and only a connect can tell: ECONNREFUSED means nothing listens there any more. The one
// check behind the master's unix listeners, its control socket and the sweep of stale ones.
import fs from 'node:fs';
import net from 'node:net';
import { codedError } from '../errors.js';

export type SocketFileState = 'absent' | 'stale' | 'live';

/** What is at `path`, looked at without following a symlink; anything but a socket is EEXIST. */
export async function socketFileState(path: string): Promise<SocketFileState> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch {
    return 'absent';
  }
  if (!st.isSocket()) throw codedError(Error, 'EEXIST', `${path} exists and is not a socket`);
  return probe(path);
}

/** 'stale' only on ECONNREFUSED; a full backlog (EAGAIN) or anything else counts as live. */
export function probe(path: string): Promise<'stale' | 'live'> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'stale' : 'live'));
  });
}
