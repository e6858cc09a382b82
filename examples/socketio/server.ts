// socket.io with two workers and its default transports: long polling first, then an
// upgrade. Every request of a client must reach the worker that holds its session, so the
// sockets are sticky by client address (`sticky: 'ip'`, a BPF program in the kernel; the
// master stays out of the path). With more than one host, or to broadcast across workers,
// socket.io also needs an adapter (Redis, say); one host's workers do not share rooms.
import http from 'node:http';
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  workers: 2,
  reusePort: true,
  sticky: 'ip',
  program: async (state) => {
    const { Server } = await import('socket.io');
    const server = http.createServer();
    const io = new Server(server);
    io.on('connection', (socket) => {
      socket.emit('hello', { worker: state.workerId, pid: process.pid });
      socket.on('ping', (n: number, ack: (n: number) => void) => ack(n));
    });
    // io.close() drops each client's transport ("transport close"), and its client reconnects,
    // to the new worker. Not io.disconnectSockets(true): it ends the sessions ("io server
    // disconnect"), and a socket.io client never reconnects from that.
    state.gracefulShutdown.addEventListener('abort', () => void io.close());
    await state.serve(server);
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
