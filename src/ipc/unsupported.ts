// Platforms without a control socket: every call refuses with a coded error, and the master
// falls back to signals alone.
import { codedError } from '../errors.js';
import type { IpcPlatform } from './types.js';

function refuse(): never {
  throw codedError(
    Error,
    'ERR_OVERSEER_IPC_UNSUPPORTED',
    `overseer: no control socket on ${process.platform}`,
  );
}

export const unsupported: IpcPlatform = {
  listenIPC: async () => refuse(),
  dialIPC: async () => refuse(),
  pathProblem: () => undefined, // the master warns that it has no control socket
  ipcPath: () => refuse(),
  listIPCPaths: () => [],
  sweepStaleIPC: async () => [],
  cleanupIPC: () => {},
};
