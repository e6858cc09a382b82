// Any server that listens on one of this worker's inherited listeners drains, however it got
// there: `app.listen(state.listener)` (Express), `fastify.listen({ ...state.listener })`, a
// plain `server.listen(state.listener)`. net.Server#listen is wrapped once per worker; a
// listen on anything else is left as it is.
import net from 'node:net';
import type { Listener } from '../contract/listener.js';
import type { Drains } from './drains.js';

const watched: { listeners: readonly Listener[]; drains: Drains }[] = [];

export function drainWhatListensOn(listeners: readonly Listener[], drains: Drains): void {
  if (listeners.length === 0) return;
  if (watched.length === 0) {
    const listen = net.Server.prototype.listen;
    net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
      for (const w of watched) if (w.listeners.some((l) => sameListener(l, args[0]))) w.drains.add(this);
      return (listen as (...a: unknown[]) => net.Server).apply(this, args);
    } as typeof listen;
  }
  watched.push({ listeners, drains });
}

/** Frameworks copy the options they are given, so a listener is known by what it binds. */
export function sameListener(l: Listener, options: unknown): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const o = options as Listener;
  if (l.fd !== undefined) return o.fd === l.fd;
  if (l.handle !== undefined) return o.handle === l.handle;
  if (l.path !== undefined) return o.path === l.path;
  return o.port === l.port && (o.host ?? '') === (l.host ?? '');
}
