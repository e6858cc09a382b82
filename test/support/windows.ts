// Shared by the Windows addon's tests (named pipes, security descriptors): the addon with its
// win32-only functions, and a pipe name no other test uses.
export { windowsNative as win } from './native.js';

export const onWindows = process.platform === 'win32';

/** The skip reason everywhere but on Windows. */
export const windowsOnly = onWindows
  ? false
  : 'Windows only: the named-pipe addon functions exist only in win32 builds';

let counter = 0;
/** A fresh pipe name, unique to this process and call. */
export function pipeName(): string {
  return `\\\\.\\pipe\\overseer-test-${process.pid}-${Date.now()}-${counter++}`;
}
