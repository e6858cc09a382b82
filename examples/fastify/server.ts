// Fastify as its users write it, with its defaults: its own listen() on the inherited
// listener, and fastify.close() on gracefulShutdown so its onClose hooks run. gracefulShutdown
// aborts once the drain has moved every HTTP client off this worker, so no request arrives
// after Fastify's close has begun (it would answer it 503).
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    const { default: Fastify } = await import('fastify');
    const app = Fastify();
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
