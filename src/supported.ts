import { platform } from './platform/index.js';

/** True when this platform and build can run the master/worker model. */
export function isSupported(): boolean {
  return platform.supported();
}
