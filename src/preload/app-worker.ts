// A worker of an unmodified app: every server.listen() of the app is served from the
// master's sockets (listen routing), every server that listens so drains when the master
// retires the worker, and only after the drain does the app hear the signal it already
// handles (--kill-signal), so its own cleanup (pools, queues) runs once, with nothing in flight.
import type { WorkerEnv } from '../contract/env.js';
import { type MasterMessage, message, onMessages, type WorkerMessage } from '../contract/messages.js';
import { debug } from '../log.js';
import { platform } from '../os/index.js';
import { send, watchMaster } from '../worker/remote.js';
import { routeListens } from '../worker/route-listen.js';
import { WorkerDrains } from '../worker/worker-drains.js';

export function startAppWorker(env: WorkerEnv<'app'>): void {
  const retire = new AbortController();
  const drains = new WorkerDrains({
    retire: retire.signal,
    terminateTimeout: env.terminateTimeout,
    upgradeGrace: env.upgradeGrace,
  });
  routeListens(drains, send, () => retire.signal.aborted);

  watchMaster(env.masterPid, () => {
    // The master is gone: nothing to serve for. A retired worker finishes its cleanup.
    if (!retire.signal.aborted) process.exit(1);
  });
  onMessages<MasterMessage>(process, (m) => {
    if (m.act !== 'shutdown' || retire.signal.aborted) return;
    debug('app worker %d: retired, draining', env.workerId);
    retire.abort(new Error('overseer: worker retired'));
    void drains.drained.then(() => {
      // From here the worker lives as long as the app's own handles; the master kills it at
      // terminateTimeout. An app without a handler for the signal ends by its default action.
      process.channel?.unref();
      debug('app worker %d: drained, %s to the app', env.workerId, env.killSignal);
      platform.signalSelf(env.killSignal);
    });
  });
  void send(message<WorkerMessage>({ act: 'online' }));
}
