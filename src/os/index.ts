// The one place that asks which OS this is.
import { posix } from './posix.js';
import type { Platform } from './types.js';
import { windows } from './windows.js';

export type { ListenerPassing, MasterSockets, Platform, RoutedSocket, SocketOptions } from './types.js';

export const platform: Platform = process.platform === 'win32' ? windows : posix;
