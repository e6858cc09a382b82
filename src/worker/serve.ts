// state.serve(): listen on an inherited listener and drain on graceful shutdown.
import type net from 'node:net';
import type { Listener } from '../contract/listener.js';
import { codedError } from '../errors.js';
import { installDrain } from './drain.js';

export function makeServe(
  listeners: readonly Listener[],
  signal: AbortSignal,
  terminateTimeout: number,
): (server: net.Server, listener?: Listener) => Promise<void> {
  const used = new Set<Listener>();
  return (server, listener = listeners[0]) => {
    if (listener === undefined) {
      return Promise.reject(
        codedError(Error, 'ERR_OVERSEER_NO_LISTENER', 'state.serve(): no address is configured'),
      );
    }
    // Two servers on one inherited fd would close it under each other.
    if (used.has(listener)) {
      return Promise.reject(
        codedError(
          Error,
          'ERR_OVERSEER_LISTENER_IN_USE',
          `state.serve(): ${listener.address} is already served`,
        ),
      );
    }
    used.add(listener);
    installDrain(server, signal, terminateTimeout).catch(() => {});
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        used.delete(listener);
        reject(err);
      };
      server.once('error', onError);
      server.listen(listener, () => {
        server.off('error', onError);
        resolve();
      });
    });
  };
}
