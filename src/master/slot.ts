// A worker slot: the place one worker occupies, as an explicit state machine.
//
//   begin         empty → starting,   serving → replacing     a new worker starts
//   promote       starting | replacing → serving             it is ready (the old one drains)
//   dropIncoming  starting → empty,   replacing → serving     it failed to start
//   dropCurrent   serving → empty,    replacing → starting    the serving one died
//   release       serving → empty                            sequential restarts drain first
//   wait          empty → waiting                            a replacement after backoff
//   stopWaiting   waiting → empty                            it is due, or cancelled
//
// At most one worker is ever starting in a slot, so a restart never forks twice; every
// transition checks the state it starts from, so a stale message cannot move a slot.
import { Backoff, type BackoffOptions } from './backoff.js';
import type { Timer } from './clock.js';
import type { WorkerHandle } from './worker-handle.js';

export type SlotState = 'empty' | 'waiting' | 'starting' | 'serving' | 'replacing';

export class Slot {
  readonly backoff: Backoff;
  #state: SlotState = 'empty';
  #current: WorkerHandle | undefined;
  #incoming: WorkerHandle | undefined;
  #timer: Timer | undefined;
  /** A restart is working on this slot: what happens to it is the restart's to handle. */
  claimed = false;

  constructor(
    readonly index: number,
    backoff?: BackoffOptions,
  ) {
    this.backoff = new Backoff(backoff);
  }

  get state(): SlotState {
    return this.#state;
  }
  /** The ready worker serving this slot ('serving', 'replacing'). */
  get current(): WorkerHandle | undefined {
    return this.#current;
  }
  /** The worker starting in this slot ('starting', 'replacing'). */
  get incoming(): WorkerHandle | undefined {
    return this.#incoming;
  }
  /** The pending replacement's timer ('waiting'). */
  get timer(): Timer | undefined {
    return this.#timer;
  }

  /** A new worker starts: empty → starting, or serving → replacing. */
  begin(w: WorkerHandle): void {
    this.#expect('begin', 'empty', 'serving');
    this.#incoming = w;
    this.#state = this.#state === 'empty' ? 'starting' : 'replacing';
  }

  /** The incoming worker is ready and serves now; returns the one it replaces, to drain. */
  promote(w: WorkerHandle): WorkerHandle | undefined {
    this.#expect('promote', 'starting', 'replacing');
    this.#mustBeIncoming(w);
    const old = this.#current;
    this.#current = w;
    this.#incoming = undefined;
    this.#state = 'serving';
    return old;
  }

  /** The incoming worker failed: starting → empty, replacing → serving (the old one stays). */
  dropIncoming(w: WorkerHandle): void {
    this.#expect('dropIncoming', 'starting', 'replacing');
    this.#mustBeIncoming(w);
    this.#incoming = undefined;
    this.#state = this.#state === 'starting' ? 'empty' : 'serving';
  }

  /** The serving worker died: serving → empty, replacing → starting (the new one goes on). */
  dropCurrent(w: WorkerHandle): void {
    this.#expect('dropCurrent', 'serving', 'replacing');
    if (this.#current !== w) throw new Error(`slot ${this.index}: worker ${w.id} is not its current one`);
    this.#current = undefined;
    this.#state = this.#state === 'serving' ? 'empty' : 'starting';
  }

  /** Takes the serving worker out, to drain before its successor starts (sequential restarts). */
  release(): WorkerHandle {
    this.#expect('release', 'serving');
    const old = this.#current!;
    this.#current = undefined;
    this.#state = 'empty';
    return old;
  }

  /** A replacement is planned: empty → waiting. */
  wait(timer: Timer): void {
    this.#expect('wait', 'empty');
    this.#timer = timer;
    this.#state = 'waiting';
  }

  /** The planned replacement is due or cancelled: waiting → empty; returns its timer. */
  stopWaiting(): Timer {
    this.#expect('stopWaiting', 'waiting');
    const timer = this.#timer;
    this.#timer = undefined;
    this.#state = 'empty';
    return timer;
  }

  #expect(transition: string, ...from: SlotState[]): void {
    if (!from.includes(this.#state)) {
      throw new Error(
        `slot ${this.index}: ${transition} from '${this.#state}' (expected ${from.join(' or ')})`,
      );
    }
  }

  #mustBeIncoming(w: WorkerHandle): void {
    if (this.#incoming !== w) throw new Error(`slot ${this.index}: worker ${w.id} is not its incoming one`);
  }
}
