// overseer/cluster in a worker. The primary starts every worker with this module preloaded
// (`--require` preload.cjs, or `--import` after loader hooks: see contract/env.ts), so it is set up
// before the program runs, as node:cluster's child side is: the worker says it is online, routes
// every server.listen() to the primary, and drains its servers when the primary retires it
// (cluster.reload()). The program's own `import cluster from 'overseer/cluster'` gets this same
// object.
import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { CHILD_KEY, isWorkerOf, takeWorkerEnvironment } from '../contract/env.js';
import { type MasterMessage, message, onMessages, type WorkerMessage } from '../contract/messages.js';
import { debug } from '../log.js';
import { send, watchMaster } from '../worker/remote.js';
import { routeListens } from '../worker/route-listen.js';
import { WorkerDrains } from '../worker/worker-drains.js';
import { Worker, WorkerBase } from './worker.js';

/**
 * Closes the IPC channel, unless the primary closed it first: both may let go at once (a signal
 * to the process group), and process.disconnect() on a closed channel is an 'error' event,
 * which the worker object carries and nothing handles.
 */
function letGo(): void {
  if (process.connected) process.disconnect();
}

class ChildWorker extends WorkerBase {
  #seq = 0;

  constructor(
    id: number,
    private readonly closeServers: () => Promise<void>,
  ) {
    super({ id, process, state: 'online' });
  }

  /** Closes this worker's servers (they finish what they serve), then the IPC channel. */
  override disconnect(): this {
    if (this.state === 'disconnecting' || this.state === 'destroying') return this;
    this.state = 'disconnecting';
    this.exitedAfterDisconnect = true;
    void this.closeServers().then(() => this.#leave(letGo));
    return this;
  }

  override destroy(): void {
    if (this.state === 'destroying') return;
    this.exitedAfterDisconnect = true;
    if (!this.isConnected()) process.exit(0);
    this.state = 'destroying';
    process.once('disconnect', () => process.exit(0));
    this.#leave(letGo);
  }

  /** Tells the primary this is a leave, not a crash, and waits for it to have heard. */
  #leave(then: () => void): void {
    if (!process.connected) {
      then();
      return;
    }
    const seq = ++this.#seq;
    const stop = onMessages<MasterMessage>(process, (m) => {
      if (m.act !== 'ack' || m.seq !== seq) return;
      stop();
      then();
    });
    void send(message<WorkerMessage>({ act: 'leaving', seq }));
  }
}

export interface ChildCluster extends EventEmitter {
  readonly isWorker: true;
  readonly isPrimary: false;
  readonly isMaster: false;
  readonly worker: Worker;
  readonly Worker: typeof Worker;
}

function setUp(): ChildCluster {
  // Read once, and gone: the program's own children are not cluster workers.
  const { workerId: id, masterPid, terminateTimeout, upgradeGrace } = takeWorkerEnvironment('cluster');

  const retire = new AbortController();
  const drains = new WorkerDrains({ retire: retire.signal, terminateTimeout, upgradeGrace });
  let worker: ChildWorker | undefined;
  const leaving = (): boolean => worker?.exitedAfterDisconnect === true;
  const routed = routeListens(
    drains,
    (m) => {
      // node:cluster's worker.state, in the worker too.
      if (m.act === 'listening' && worker?.state === 'online') worker.state = 'listening';
      void send(m);
    },
    leaving,
  );
  const closeServers = (): Promise<void> =>
    Promise.all(
      [...routed.servers].map(
        (s: net.Server) =>
          new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve())),
      ),
    ).then(() => {});
  worker = new ChildWorker(id, closeServers);
  const self = worker;

  watchMaster(masterPid, () => {
    self.emit('disconnect');
    // The primary died, or let go of us without a disconnect: nothing to stay for.
    if (!self.exitedAfterDisconnect) process.exit(0);
  });
  onMessages<MasterMessage>(process, (m) => {
    if (m.act === 'disconnect') {
      // The primary's self.disconnect(): close the servers, then let go.
      self.exitedAfterDisconnect = true;
      self.state = 'disconnecting';
      void closeServers().then(letGo);
    } else if (m.act === 'shutdown') {
      // cluster.reload() retires this worker: its servers drain without losing a request.
      debug('cluster worker %d: retired, draining', id);
      self.exitedAfterDisconnect = true;
      void send(message<WorkerMessage>({ act: 'leaving', seq: 0 }));
      retire.abort(new Error('overseer/cluster: worker retired by a reload'));
      void drains.drained.then(() => {
        // A stop ends the drained worker, as node:cluster's worker exits (0) when its primary
        // goes: a timer or a pool would otherwise hold it until terminateTimeout's SIGKILL. A
        // reload's old worker is left to end by itself, as after worker.disconnect().
        if (m.stop) process.once('disconnect', () => process.exit(0));
        if (process.connected) process.disconnect();
        else if (m.stop) process.exit(0);
      });
    }
  });
  void send(message<WorkerMessage>({ act: 'online' }));

  const cluster = Object.assign(new EventEmitter(), {
    isWorker: true as const,
    isPrimary: false as const,
    isMaster: false as const,
    worker: self,
    Worker,
  });
  return cluster;
}

/** This worker's cluster object, made once (the preload makes it before the program runs). */
export function childCluster(): ChildCluster | undefined {
  const registry = globalThis as { [CHILD_KEY]?: ChildCluster };
  if (registry[CHILD_KEY] === undefined && isWorkerOf('cluster')) {
    registry[CHILD_KEY] = setUp();
  }
  return registry[CHILD_KEY];
}

childCluster();
