// A worker as overseer/cluster's primary sees it: node:cluster's Worker over one of the
// supervisor's worker processes, which raises node:cluster's events, in its order, on itself
// and on the cluster object. Loaded only in the primary.
import type { EventEmitter } from 'node:events';
import type { WorkerProcess } from '../master/worker-process.js';
import { WorkerBase } from './worker.js';

export class PrimaryWorker extends WorkerBase {
  /**
   * `predecessor`: the worker it replaces in its slot (a reload). `forget`: takes it out of
   * cluster.workers. `going`: emits its disconnect or its exit (a fork() in their handlers may
   * stand for a reload's replacement).
   */
  constructor(
    readonly handle: WorkerProcess,
    private readonly cluster: EventEmitter,
    predecessor: WorkerProcess | undefined,
    private readonly forget: (w: PrimaryWorker) => void,
    private readonly going: (w: PrimaryWorker, emit: () => void) => void,
  ) {
    super({ id: handle.id, process: handle.child });
    this.#wire(predecessor !== undefined);
  }

  /** Its servers finish what they serve, then it leaves (node:cluster's semantics). */
  override disconnect(): this {
    this.exitedAfterDisconnect = true;
    this.handle.expectExit();
    this.handle.send({ cmd: 'NODE_OVERSEER', act: 'disconnect' });
    this.forget(this);
    return this;
  }

  override destroy(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.handle.kill(signal);
  }

  /** node:cluster's events, in its order, on the worker and on the cluster. */
  #wire(forReload: boolean): void {
    const { handle, cluster } = this;
    const child = handle.child;
    this.on('message', (message: unknown, h: unknown) => cluster.emit('message', this, message, h));
    handle.on('online', () => {
      this.state = 'online';
      this.emit('online');
      cluster.emit('online', this);
    });
    handle.on('listening', (info: { addressType: number; address: string | null; port: number }) => {
      const address = {
        addressType: info.addressType,
        address: info.address,
        port: info.port,
        fd: undefined,
      };
      this.state = 'listening';
      this.emit('listening', address);
      cluster.emit('listening', this, address);
    });
    handle.on('leaving', () => {
      this.exitedAfterDisconnect = true;
      handle.expectExit();
    });
    child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      if (!this.isConnected()) this.forget(this);
      // Also true for a worker the primary let go of: retired by a reload, or a reload's
      // worker that failed to start (the old one keeps serving; nothing for the program to fork).
      const failedReload = forReload && handle.readyAt === undefined;
      this.exitedAfterDisconnect = !!this.exitedAfterDisconnect || handle.drainRequested || failedReload;
      this.state = 'dead';
      this.going(this, () => {
        this.emit('exit', code, signal);
        cluster.emit('exit', this, code, signal);
      });
    });
    let disconnected = false;
    const onDisconnect = (): void => {
      if (disconnected) return;
      disconnected = true;
      if (this.isDead()) this.forget(this);
      this.exitedAfterDisconnect = !!this.exitedAfterDisconnect;
      this.state = 'disconnected';
      this.going(this, () => {
        this.emit('disconnect');
        cluster.emit('disconnect', this);
      });
    };
    child.once('disconnect', onDisconnect);
    // A spawn that failed (a missing cwd; EAGAIN, EMFILE): under node:cluster the child's
    // 'error' comes, then its channel's end on a later turn ('disconnect', after 'fork'), and
    // no 'exit'; the worker, dead, leaves cluster.workers. Here there is no channel to end.
    handle.once('spawnFailed', () => setImmediate(onDisconnect));
  }
}
