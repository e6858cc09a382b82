// The control socket's HTTP side, made in the background as the socket opens (prepare()), so
// that a master's first worker does not wait for node:http and the API's modules. Not at the
// first connection: loading modules takes fds, and a master out of fds (when its control socket
// matters most) could then never answer. Connections are handed over as the Windows pipe's are
// (ipc/windows.ts): by the server's 'connection' event; what a client sent meanwhile waits in
// the socket. An API that failed to load is tried again at the next connection.
import type { Server } from 'node:http';
import type net from 'node:net';
import { errorMessage } from '../errors.js';
import { debug } from '../log.js';

export class LazyApi {
  #made: Server | undefined;
  #making: Promise<Server> | undefined;
  #closed = false;

  constructor(private readonly make: () => Promise<Server>) {}

  /** Starts making the API now, in the background. */
  prepare(): void {
    if (!this.#made) this.#start().catch(() => {}); // a failure is tried again at a connection
  }

  /** Hands every connection `listener` accepts (and admits) to the HTTP server. */
  serve(listener: net.Server): void {
    listener.on('connection', (socket) => {
      if (this.#made) {
        this.#made.emit('connection', socket);
        return;
      }
      this.#start().then(
        (server) => {
          if (this.#closed) socket.destroy();
          else server.emit('connection', socket);
        },
        () => socket.destroy(),
      );
    });
  }

  #start(): Promise<Server> {
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
    return this.#making;
  }

  /** Ends the connections it serves, and any still waiting for it (the listeners' owner closes them). */
  closeAllConnections(): void {
    this.#closed = true;
    this.#made?.closeAllConnections();
    this.#made?.close();
  }
}
