// A fake of the OS seam (src/os/types.ts) for tests of the master without processes: each
// member a test does not give throws, so a test says exactly what of the platform it uses.
// Also fake listening sockets, and a control-socket platform that listens for real on a path
// in a temporary directory (no peer check, no umask), so the API can be asked over HTTP.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { IpcPlatform } from '../../src/control/ipc/types.js';
import type { MasterSockets, Platform } from '../../src/os/types.js';

const notFaked = (name: string) => (): never => {
  throw new Error(`fake os: ${name} is not faked`);
};

export function fakePlatform(parts: Partial<Platform> = {}): Platform {
  return {
    supported: () => true,
    openSockets: notFaked('openSockets'),
    routedSocket: notFaked('routedSocket'),
    reapOrphans: async () => {},
    closeFd: notFaked('closeFd'),
    routedFromFd: notFaked('routedFromFd'),
    receiveListeners: notFaked('receiveListeners'),
    guardOrphan: notFaked('guardOrphan'),
    controlSocket: notFaked('controlSocket'),
    untrustedFile: notFaked('untrustedFile'),
    ipcPathProblem: () => undefined,
    shutdownSignals: ['SIGTERM', 'SIGINT', 'SIGHUP'],
    restartSignal: true,
    forwardSignals: true,
    signalSelf: notFaked('signalSelf'),
    ownProcessGroup: false,
    killProcessGroup: notFaked('killProcessGroup'),
    handoff: notFaked('handoff'),
    replaceFile: notFaked('replaceFile'),
    cleanupAfterUpgrade: () => {},
    processUsage: () => undefined,
    ...parts,
  };
}

/** Listening sockets that exist only as addresses; `closed` records each close(keepFiles), `shut` each shut(). */
export function fakeSockets(
  addresses: string[],
): MasterSockets & { closed: (boolean | undefined)[]; shuts: number } {
  const closed: (boolean | undefined)[] = [];
  const out = {
    addresses,
    passTo: () => ({ stdio: [], attach: () => {} }),
    inProcess: () => [],
    shut: () => {
      out.shuts++;
    },
    close: (keepFiles: boolean | undefined) => void closed.push(keepFiles),
    closed,
    shuts: 0,
  };
  return out;
}

/** Where a control socket named `name` listens for a test: a file under `dir`, or a named pipe. */
export function ipcAddress(dir: string, name: string): string {
  return process.platform === 'win32'
    ? `\\\\.\\pipe\\${path.basename(dir)}-${name}`
    : path.join(dir, `${name}.sock`);
}

/** A control-socket platform that listens on a path under `dir`; `cleaned` records each cleanup. */
export function fakeIpc(dir: string): IpcPlatform & { cleaned: string[] } {
  const cleaned: string[] = [];
  return {
    listenIPC: (at, options = {}) =>
      new Promise((resolve, reject) => {
        const server = options.server ?? net.createServer();
        server.once('error', reject);
        server.listen(at, () => resolve(server));
      }),
    dialIPC: notFaked('dialIPC'),
    namedPath: (name) => ipcAddress(dir, name),
    namedPaths: (name) => [ipcAddress(dir, name)],
    listIPCPaths: () => [],
    sweepStaleIPC: async () => [],
    cleanupIPC: (at) => {
      cleaned.push(at);
      if (process.platform !== 'win32') fs.rmSync(at, { force: true });
    },
    cleaned,
  };
}
