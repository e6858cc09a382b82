// Koa: state.serve() takes the app itself (it calls app.callback()).
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    const { default: Koa } = await import('koa');
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = `hello from koa, worker ${state.workerId} (pid ${process.pid})\n`;
    });
    await state.serve(app);
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
