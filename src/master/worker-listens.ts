// What one worker has asked the master to route, been routed, and listens on: the master's
// record of one worker's listens. It checks what the worker says against what it was routed (a
// 'listening' or a 'closed' for anything else breaks the contract), bounds it (a worker has at
// most ROUTED_LISTENS.perWorker distinct addresses routed at once), and says what the worker
// serves for its slot: the addresses it asked for during its start (until it was ready and
// listening) that it listens on, as they were when it was asked to go. Nothing is left of it
// once the worker has gone but that last answer.
import { ROUTED_LISTENS } from './listen-routes.js';

interface Entry {
  /** Routes asked for and not answered yet. */
  asked: number;
  /** Routes answered with the socket, less the servers on them that closed. */
  routed: number;
  /** Servers on it that listen. */
  listening: number;
  /** Asked for during the worker's start. */
  atStart: boolean;
}

export class WorkerListens {
  readonly #entries = new Map<string, Entry>();
  /** The keys it listens on now. */
  readonly listening = new Set<string>();
  #startEnded = false;
  /** What it served when it was asked to go (or when it went), once that happened. */
  #final: string[] | undefined;

  /** `leaving`: whether the worker has been asked to go (its closes are its drain, not its choice). */
  constructor(
    private readonly leaving: () => boolean,
    private readonly perWorker: number = ROUTED_LISTENS.perWorker,
  ) {}

  /** Its start has ended (it is ready and listens): what it asks for from now on is not its slot's. */
  get startEnded(): boolean {
    return this.#startEnded;
  }

  endStart(): void {
    this.#startEnded = true;
  }

  /** A listen it asks for; false past its bound (the master refuses it). */
  ask(key: string): boolean {
    let e = this.#entries.get(key);
    if (e === undefined) {
      if (this.#entries.size >= this.perWorker) return false;
      e = { asked: 0, routed: 0, listening: 0, atStart: !this.#startEnded };
      this.#entries.set(key, e);
    }
    e.asked++;
    return true;
  }

  /** The master's answer to a listen it asked for: the socket (`ok`), or a refusal. */
  answered(key: string, ok: boolean): void {
    const e = this.#entries.get(key);
    if (e === undefined || e.asked === 0) return;
    e.asked--;
    if (ok) e.routed++;
    else this.#prune(key, e);
  }

  /** The socket answered for `key` could not be sent after all: as if the listen had been refused. */
  notSent(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined || e.routed === 0) return;
    e.routed--;
    this.#prune(key, e);
  }

  /** A server of its listens on `key`; false when nothing it was routed on `key` is left to listen. */
  listened(key: string): boolean {
    const e = this.#entries.get(key);
    if (e === undefined || e.listening >= e.routed) return false;
    e.listening++;
    this.listening.add(key);
    return true;
  }

  /** A server of its that listened on `key` has closed; false when none listens there. */
  closed(key: string): boolean {
    const e = this.#entries.get(key);
    if (e === undefined || e.listening === 0) return false;
    if (this.leaving()) this.#final ??= this.served();
    e.listening--;
    e.routed--;
    if (e.listening === 0) this.listening.delete(key);
    this.#prune(key, e);
    return true;
  }

  /** What it serves for its slot: what it listens on of what it asked for at its start. */
  served(): string[] {
    return this.#final ?? [...this.#entries].filter(([, e]) => e.atStart && e.listening > 0).map(([k]) => k);
  }

  /** Every key it holds: asked for, routed or listening. */
  held(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** The worker has gone: only what it served stays. */
  gone(): void {
    this.#final ??= this.served();
    this.#entries.clear();
    this.listening.clear();
  }

  #prune(key: string, e: Entry): void {
    if (e.asked === 0 && e.routed === 0 && e.listening === 0) this.#entries.delete(key);
  }
}
