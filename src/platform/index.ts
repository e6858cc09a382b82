// Picks the platform file; nothing else in overseer asks which OS it is on.
import { posix } from './posix.js';
import type { Platform } from './types.js';
import { windows } from './windows.js';

export type { Platform } from './types.js';

export const platform: Platform = process.platform === 'win32' ? windows : posix;
