// Express as its users write it: `app.listen(state.listener)`. A worker drains any server that
// listens on an inherited listener, so there is no drain code here. Express is imported
// inside program, so the master never loads it.
import { currentMaster, run } from 'overseer';

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    const { default: express } = await import('express');
    const app = express();
    app.get('/', (_req, res) => {
      res.send(`hello from express, worker ${state.workerId} (pid ${process.pid})\n`);
    });
    await new Promise<void>((resolve, reject) => {
      app.listen(state.listener, (err?: Error) => (err ? reject(err) : resolve()));
    });
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
