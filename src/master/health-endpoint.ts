// The health endpoint over the master's life (config.healthAddress): it listens from the
// start, or for a new master from the old one's commit, and goes to the new master with a
// handoff's commit. With it, drainDelay: from a stop signal on, /readyz fails while the
// workers serve on, until the load balancer has heard; only then do they drain. The server
// itself (health.ts) is loaded only when there is an address to serve.
import type { ListenAddress } from '../address.js';
import { debug } from '../log.js';
import type { HealthServer } from './health-server.js';
import type { Supervisor } from './supervisor.js';

export class HealthEndpoint {
  #server: HealthServer | undefined;
  #delayedShutdown: Promise<number> | undefined;
  /** Ends drainDelay early: the waiting shutdown runs now. */
  #cutShort: (() => void) | undefined;

  constructor(
    private readonly at: (ListenAddress & { kind: 'tcp' }) | undefined,
    private readonly supervisor: Supervisor,
  ) {}

  /** Where it listens, while it does. */
  get address(): string | undefined {
    return this.#server?.address;
  }

  /** A shutdown waiting out drainDelay, once one does. */
  get delayedShutdown(): Promise<number> | undefined {
    return this.#delayedShutdown;
  }

  /** Listens, when there is an address and it does not already. */
  async serve(): Promise<void> {
    if (!this.at || this.#server) return;
    const { serveHealth } = await import('./health-server.js');
    this.#server = await serveHealth(this.at, {
      ready: () => this.#allSlotsReady(),
      stopping: () => this.#delayedShutdown !== undefined || this.supervisor.stopping,
    });
  }

  close(): void {
    this.#server?.close();
    this.#server = undefined;
  }

  /** drainDelay: /readyz fails from now on, and `shutdown` runs `ms` later. */
  delayShutdown(ms: number, shutdown: () => Promise<number>): Promise<number> {
    debug('master: drainDelay, draining in %d ms', ms);
    this.#delayedShutdown = new Promise<number>((resolve) => {
      const timer = setTimeout(() => this.drainNow(), ms);
      this.#cutShort = () => {
        clearTimeout(timer);
        resolve(shutdown());
      };
    });
    return this.#delayedShutdown;
  }

  /** drainDelay is over early: the waiting shutdown begins now, before this returns. */
  drainNow(): void {
    const cut = this.#cutShort;
    this.#cutShort = undefined;
    cut?.();
  }

  /** Every worker slot has a ready worker. */
  #allSlotsReady(): boolean {
    const slots = this.supervisor.slots;
    return slots.length > 0 && slots.every((s) => s.current?.phase === 'ready');
  }
}
