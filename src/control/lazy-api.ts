// The control socket's HTTP side. Its modules load in the background as the socket opens
// (prepare()): loading modules takes fds, and a master out of fds (when its control socket
// matters most) could then never answer. The server itself, and node:http with it (a builtin,
// which takes no fd), wait for the first connection: a master no client asks never loads
// node:http, as a node:cluster primary never does (issue #22). Connections are handed over as
// the Windows pipe's are (ipc/windows.ts): by the server's 'connection' event; what a client
// sent meanwhile waits in the socket. An API that failed to load is tried again at the next
// connection.
import type { Server } from 'node:http';
import type net from 'node:net';
import { errorMessage } from '../errors.js';
import { debug } from '../log.js';

export class LazyApi {
  #made: Server | undefined;
  #making: Promise<Server> | undefined;
  #closed = false;

  /**
   * `make` makes the server at the first connection; `load`, which prepare() runs, loads what
   * making it needs from files.
   */
  constructor(
    private readonly make: () => Promise<Server>,
    private readonly load: () => Promise<unknown>,
  ) {}

  /** Loads the API's modules now, in the background; the server waits for a connection. */
  prepare(): void {
    if (!this.#made) this.load().catch(() => {}); // a failure is tried again at a connection
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
