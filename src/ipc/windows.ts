// The control socket on Windows: a named pipe whose DACL admits only this user, SYSTEM and
// Administrators. It needs the addon's pipe server, which arrives with the Windows issue;
// until then every call refuses with a coded error and the master uses signals alone.
import { codedError } from '../errors.js';
import type { IpcPlatform } from './types.js';

function notYet(): never {
  throw codedError(
    Error,
    'ERR_OVERSEER_IPC_UNSUPPORTED',
    'overseer: the Windows control socket is not supported yet',
  );
}

export const windows: IpcPlatform = {
  listenIPC: async () => notYet(),
  dialIPC: () => notYet(),
  ipcPath: (token) => `\\\\.\\pipe\\overseer-${token}`,
  listIPCPaths: () => [],
  cleanupIPC: () => {},
};
