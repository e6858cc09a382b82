// The master's turns: an upgrade's switch (swap to commit or rollback) and a master handoff
// never overlap, so a new master never starts on a version that is then rolled back; and a
// handoff asked for while one waits or runs joins it rather than making a second.
import type { ReexecEvent } from './events.js';

export class Turns {
  /** The end of the last turn taken. */
  #last: Promise<unknown> = Promise.resolve();
  /** A handoff asked for, waiting for its turn or under way. */
  #handoff: Promise<ReexecEvent> | undefined;

  /** Runs `fn` once the turn before it is over. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.#last.then(fn);
    this.#last = turn.catch(() => {});
    return turn;
  }

  /** Runs the handoff `fn` in its turn, or joins the one already asked for. */
  handoff(fn: () => Promise<ReexecEvent>): Promise<ReexecEvent> {
    this.#handoff ??= this.exclusive(fn).finally(() => {
      this.#handoff = undefined;
    });
    return this.#handoff;
  }
}
