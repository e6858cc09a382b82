// A worker of run()'s master: the program's own entry, run as the binary says, on the listeners
// the master made for its slot, with the contract's environment (contract/env.ts). `overseer
// run` starts its workers another way (app-workers.ts).
import { workerEnvironment } from '../contract/env.js';
import type { MasterSockets } from '../os/index.js';
import type { Binary } from './binary.js';
import type { LaunchContext } from './launch.js';
import { WorkerProcess } from './worker-process.js';

export function spawnProgramWorker(
  binary: Binary,
  sockets: MasterSockets,
  ctx: LaunchContext & { slot: number; id: number; readyTimeout: number },
): WorkerProcess {
  const env = {
    ...process.env,
    ...workerEnvironment('run', {
      workerId: ctx.id,
      binHash: ctx.binHash,
      binPath: ctx.binPath,
      numFds: sockets.addresses.length,
      ipcPath: ctx.ipcPath,
      addresses: [...sockets.addresses],
      masterPid: process.pid,
    }),
  };
  const { command, args } = binary.commandFor(binary.path);
  const spec = { command, args, env, listeners: sockets.passTo(ctx.slot) };
  return new WorkerProcess(ctx.id, ctx.slot, spec, ctx.readyTimeout);
}
