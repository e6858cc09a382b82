// The one place that asks which OS this is.
import { posix } from './posix.js';
import type { Os } from './types.js';
import { windows } from './windows.js';

export type { ListenerPassing, MasterSockets, Os, RoutedSocket, SocketOptions } from './types.js';

export const os: Os = process.platform === 'win32' ? windows : posix;
