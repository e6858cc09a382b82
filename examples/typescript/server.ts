// A TypeScript app run straight from its source: `node --import tsx server.ts`. Not the tsx
// command: it puts itself between the shell and the master, and dies of SIGUSR2. With
// --import, tsx is a loader inside node, and the workers inherit it (they run with the
// master's execArgv).
import type http from 'node:http';
import { currentMaster, run, type State } from 'overseer';

function hello(state: State): http.RequestListener {
  return (_req, res) => res.end(`hello from typescript, worker ${state.workerId}\n`);
}

const running = run({
  address: `127.0.0.1:${process.env.PORT ?? '3000'}`,
  program: async (state) => {
    await state.serve(hello(state));
  },
});
currentMaster()?.on('listening', ({ addresses }) => console.log(`listening on ${addresses.join(', ')}`));
currentMaster()?.on('restart', (r) => console.log(`restart ${r.ok ? 'done' : 'failed'}`));
await running;
