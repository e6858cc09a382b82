import { nativeAvailable } from './native.js';

/** True when this platform and build can run the master/worker model. */
export function isSupported(): boolean {
  return process.platform !== 'win32' && nativeAvailable();
}
