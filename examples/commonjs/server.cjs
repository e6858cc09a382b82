// A CommonJS app: require('overseer') works on the Node versions overseer supports (they
// can require() ES modules).
const http = require('node:http');
const { currentMaster, run } = require('overseer');

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    await state.serve(
      http.createServer((_req, res) => res.end(`hello from commonjs, worker ${state.workerId}\n`)),
    );
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
running.catch((err) => {
  console.error(err);
  process.exit(1);
});
