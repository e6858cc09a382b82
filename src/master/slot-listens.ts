// What each worker slot serves through listen routing, for two decisions. The readiness rule:
// a slot's new worker is ready once it listens on what its slot serves, which is what the slot's
// last worker listened on of the addresses it asked for during its start, less what it has closed
// since (a port opened later, a debug port on first use, is not required; a port closed is not).
// And which routed sockets the master keeps: those a live worker holds, and those a slot serves
// while its worker is down (a crash loop), so that port keeps queueing; the rest are closed once
// nothing has held them for a while (listen-routes.ts). `overseer run` and overseer/cluster both
// decide here.

import type { ListenRoutes, RouteHolder } from './listen-routes.js';
import type { WorkerPhase } from './worker-handle.js';
import type { WorkerListens } from './worker-listens.js';
import type { ListenRoute } from './worker-process.js';

/** A worker as this side sees it (a WorkerProcess; a fake in the unit tests). */
export interface ListeningWorker {
  readonly id: number;
  readonly slot: number;
  readonly phase: WorkerPhase;
  readonly drainRequested: boolean;
  readonly listens: WorkerListens;
  readonly ready: Promise<void>;
  readonly exited: Promise<unknown>;
  on(event: 'online' | 'listening' | 'closed', fn: () => void): unknown;
  becomeReady(): void;
}

/** The worker that speaks for a slot (the newest whose start ended), or what it served when it went. */
interface Served {
  id: number;
  worker?: ListeningWorker;
  keys?: readonly string[];
}

export class SlotListens {
  readonly #served = new Map<number, Served>();
  readonly #live = new Set<ListeningWorker>();
  /** New workers waiting to listen as their slot does, and the check that makes them ready. */
  readonly #waiting = new Map<ListeningWorker, () => void>();

  /**
   * `slotsStay`: a slot outlives its workers (`overseer run`, where a crashed worker is replaced).
   * Otherwise (overseer/cluster) a slot goes with a worker that leaves on purpose, and a crashed
   * one's slot serves on until another worker's start has ended (the program forked again).
   */
  constructor(
    private readonly routes: ListenRoutes,
    private readonly slotsStay: boolean,
  ) {
    routes.holders = () => this.#holders();
  }

  /** The route for a worker of `slot`: the master's socket for what it asks. */
  route(slot: number): ListenRoute {
    return (request) => {
      const routed = this.routes.route(request, slot);
      // A worker that went while its socket was being made holds nothing: look again.
      void routed.then(
        () => this.routes.release(),
        () => {},
      );
      return routed;
    };
  }

  /** Follows a worker's listens, closes and exit: what its slot serves, and what the master keeps. */
  follow(w: ListeningWorker): void {
    this.#live.add(w);
    const speak = (): void => this.#speak(w);
    w.on('listening', speak);
    void w.ready.then(speak, () => {});
    w.on('closed', () => {
      if (this.#served.get(w.slot)?.worker === w) this.#recheck(w.slot);
      this.routes.release();
    });
    void w.exited.then(() => this.#gone(w));
  }

  /** What a new worker of `slot` must listen on to be ready (the readiness rule). */
  required(slot: number): readonly string[] {
    const s = this.#served.get(slot);
    return s?.worker?.listens.served() ?? s?.keys ?? [];
  }

  /**
   * Makes `w` ready once it listens on what its slot serves: checked at each of `events` of
   * `w`, and whenever its slot's last worker closes a server.
   */
  readyWhenServing(w: ListeningWorker, events: readonly ('online' | 'listening')[]): void {
    const check = (): void => {
      if (w.phase === 'starting' && !this.required(w.slot).every((k) => w.listens.listening.has(k))) return;
      this.#waiting.delete(w);
      w.becomeReady();
    };
    this.#waiting.set(w, check);
    for (const event of events) w.on(event, check);
  }

  /** Its start ends once it is ready and listens: from then on it speaks for its slot. */
  #speak(w: ListeningWorker): void {
    if (w.listens.startEnded || w.phase !== 'ready' || w.listens.listening.size === 0) return;
    w.listens.endStart();
    const now = this.#served.get(w.slot);
    if (now !== undefined && now.id > w.id) return;
    this.#served.set(w.slot, { id: w.id, worker: w });
    // The program is back: what crashed workers of slots gone served is no longer kept for them.
    if (!this.slotsStay)
      for (const [slot, s] of this.#served) if (s.worker === undefined) this.#served.delete(slot);
    this.routes.release();
  }

  #gone(w: ListeningWorker): void {
    this.#live.delete(w);
    this.#waiting.delete(w);
    if (this.#served.get(w.slot)?.worker === w) {
      if (!this.slotsStay && w.drainRequested) this.#served.delete(w.slot);
      else this.#served.set(w.slot, { id: w.id, keys: w.listens.served() });
    }
    this.routes.release();
  }

  #recheck(slot: number): void {
    for (const [w, check] of this.#waiting) if (w.slot === slot) check();
  }

  *#holders(): Iterable<RouteHolder> {
    for (const w of this.#live) for (const key of w.listens.held()) yield { key, slot: w.slot };
    for (const [slot, s] of this.#served) for (const key of s.keys ?? []) yield { key, slot };
  }
}
