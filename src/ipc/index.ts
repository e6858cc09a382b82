// Picks the control socket's platform file; nothing else in overseer looks at the platform.
import { posix } from './posix.js';
import type { IpcPlatform } from './types.js';
import { unsupported } from './unsupported.js';
import { windows } from './windows.js';

export type { IpcListenOptions, IpcPlatform } from './types.js';

function pick(): IpcPlatform {
  if (process.platform === 'win32') return windows;
  if (['linux', 'darwin', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix'].includes(process.platform))
    return posix;
  return unsupported;
}

export const ipc: IpcPlatform = pick();
export const { listenIPC, dialIPC, ipcPath, listIPCPaths, sweepStaleIPC, cleanupIPC } = ipc;
export const ipcPathProblem = ipc.pathProblem;
