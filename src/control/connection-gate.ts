// A gate in front of a server's 'connection' listeners: it sees each new socket first, in
// the tick it was accepted (before a byte is read), and may take it away from the server.
import type net from 'node:net';

/** `pass(socket)` false: the socket never reaches the server; the gate has dealt with it. */
export function gateConnections(server: net.Server, pass: (socket: net.Socket) => boolean): void {
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'connection' && !pass(args[0] as net.Socket)) return false;
    return emit(event, ...args);
  };
}
