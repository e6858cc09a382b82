// Fastify as its users write it: its own listen() on the inherited listener, and
// fastify.close() on gracefulShutdown so its onClose hooks run. The drain keeps that close
// gentle: no idle keep-alive socket is reaped while a request may be on the wire.
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    const { default: Fastify } = await import('fastify');
    // Fastify answers 503 to requests that arrive while it closes; the drain already tells
    // keep-alive clients to go elsewhere, so let those last requests be served.
    const app = Fastify({ return503OnClosing: false });
    app.get('/', async () => `hello from fastify, worker ${state.workerId} (pid ${process.pid})\n`);
    app.addHook('onClose', async () => {
      console.log(`onClose ran in worker ${state.workerId}`); // a pool, a queue… closes here
    });
    await app.listen(state.listener);
    state.gracefulShutdown.addEventListener('abort', () => void app.close());
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
