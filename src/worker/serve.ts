// state.serve(): listen on an inherited listener and drain on graceful shutdown. It takes a
// server, a request handler (an Express app) or an app with callback() (Koa), and resolves
// with the server once it listens.
import http from 'node:http';
import type net from 'node:net';
import type { Listener } from '../contract/listener.js';
import { codedError } from '../errors.js';
import { shown } from '../options.js';
import { sameListener, type WorkerDrains } from './worker-drains.js';

/** What state.serve() accepts: a server, a request handler, or an app with callback(). */
export type Servable = net.Server | http.RequestListener | { callback(): http.RequestListener };

/** state.serve(): it resolves with the server it was given, in that server's own type. */
export interface Serve {
  <S extends net.Server>(server: S, listener?: Listener): Promise<S>;
  (
    app: http.RequestListener | { callback(): http.RequestListener },
    listener?: Listener,
  ): Promise<http.Server>;
  (target: Servable, listener?: Listener): Promise<net.Server>;
}

export function makeServe(listeners: readonly Listener[], drains: WorkerDrains): Serve {
  const used: Listener[] = [];
  // One body for the overloads: it returns the server it was given, or the one it made.
  const serve = async (target: Servable, listener = listeners[0]): Promise<net.Server> => {
    const server = asServer(target);
    if (listener === undefined) {
      throw codedError(Error, 'ERR_OVERSEER_NO_LISTENER', 'state.serve(): no address is configured');
    }
    if (!listeners.some((l) => sameListener(l, listener))) {
      throw codedError(
        TypeError,
        'ERR_OVERSEER_NO_LISTENER',
        `state.serve(): the listener must be one of state.listeners, got ${shown(listener)}`,
      );
    }
    // Two servers on one inherited fd would close it under each other.
    if (used.some((u) => sameListener(u, listener))) {
      throw codedError(
        Error,
        'ERR_OVERSEER_LISTENER_IN_USE',
        `state.serve(): ${listener.address} is already served`,
      );
    }
    used.push(listener);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        used.splice(used.indexOf(listener), 1);
        reject(err);
      };
      server.once('error', onError);
      try {
        server.listen({ ...listener }, () => {
          server.off('error', onError);
          // Before its first connection (those come after 'listening'), never for a server
          // that did not listen: its drain would wait for a close that never comes.
          drains.add(server);
          resolve();
        });
      } catch (err) {
        server.off('error', onError);
        onError(err as Error);
      }
    });
    return server;
  };
  return serve as Serve;
}

function asServer(target: Servable): net.Server {
  if (typeof target === 'function') return http.createServer(target as http.RequestListener);
  if (typeof target === 'object' && target !== null) {
    if (
      typeof (target as net.Server).listen === 'function' &&
      typeof (target as net.Server).close === 'function'
    ) {
      return target as net.Server;
    }
    const callback = (target as { callback?: unknown }).callback;
    if (typeof callback === 'function')
      return http.createServer(callback.call(target) as http.RequestListener);
  }
  throw codedError(
    TypeError,
    'ERR_OVERSEER_SERVE_ARGUMENT',
    `state.serve() takes a net.Server, a request handler or an app with callback(), got ${
      target === null ? 'null' : typeof target
    }`,
  );
}
