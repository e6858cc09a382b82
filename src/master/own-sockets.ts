// run()'s master's own listening sockets, from config.addresses: made here, or handed over by
// the old master of a handoff (then adopted, with its routed sockets), and kept in systemd's FD
// store where the unit has one. A failure ends the handoff's new side too.
import type { ResolvedConfig } from '../config.js';
import type { MasterSockets, Platform } from '../os/index.js';
import type { Inherited } from './handoff/new-master.js';
import type { WorkerLaunch } from './launch.js';
import { type Notifier, storeSockets } from './systemd.js';

export class OwnSockets {
  /** Once they are open. */
  sockets: MasterSockets | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly launch: WorkerLaunch | undefined,
  ) {}

  async open(
    platform: Platform,
    inherited: Inherited | undefined,
    systemd: Notifier | undefined,
  ): Promise<MasterSockets> {
    const c = this.config;
    try {
      const sockets = await platform.openSockets(c.addresses, {
        sets: c.reusePort ? c.workers : 1,
        reusePort: c.reusePort,
        backlog: c.backlog,
        sticky: c.sticky === 'ip',
        adoptPassed: this.launch === undefined,
        handedOver: inherited?.sockets,
      });
      this.sockets = sockets; // before the handoff adopts them: it reads them from here
      if (systemd) storeSockets(systemd, sockets, this.launch);
      await inherited?.adopt();
      return sockets;
    } catch (err) {
      inherited?.fail(err);
      throw err;
    }
  }

  /** What they listen on, and what `overseer run`'s workers listen on through the master. */
  addresses(): readonly string[] {
    const own = this.sockets?.addresses ?? [];
    return this.launch ? [...own, ...this.launch.addresses()] : own;
  }
}
