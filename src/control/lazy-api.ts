// The control socket's HTTP side, made when its first connection comes: a master nobody asks
// anything loads no node:http and no API (about 1 MB of a master's memory, and five modules to
// load before its first worker starts). Connections are handed over as the Windows pipe's are
// (ipc/windows.ts): by the server's 'connection' event; what a client sent meanwhile waits in
// the socket.
import type { Server } from 'node:http';
import type net from 'node:net';
import { errorMessage } from '../errors.js';
import { debug } from '../log.js';

export class LazyApi {
  #made: Server | undefined;
  #making: Promise<Server> | undefined;
  #closed = false;

  constructor(private readonly make: () => Promise<Server>) {}

  /** Hands every connection `listener` accepts (and admits) to the HTTP server. */
  serve(listener: net.Server): void {
    listener.on('connection', (socket) => {
      if (this.#made) {
        this.#made.emit('connection', socket);
        return;
      }
      this.#making ??= this.make().then(
        (server) => {
          // What a listening server does for itself: the headers and request timeouts' checks.
          server.emit('listening');
          this.#made = server;
          return server;
        },
        (err: unknown) => {
          // Out of fds, say: the next connection tries again.
          debug('control socket: the API did not load: %s', errorMessage(err));
          this.#making = undefined;
          throw err;
        },
      );
      this.#making.then(
        (server) => {
          if (this.#closed) socket.destroy();
          else server.emit('connection', socket);
        },
        () => socket.destroy(),
      );
    });
  }

  /** Ends the connections it serves, and any still waiting for it (the listeners' owner closes them). */
  closeAllConnections(): void {
    this.#closed = true;
    this.#made?.closeAllConnections();
    this.#made?.close();
  }
}
