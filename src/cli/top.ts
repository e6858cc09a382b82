// `overseer top [NAME]`: a live view of this user's masters (or the one named), refreshed every
// second over their control sockets alone (no new privilege: what `overseer status`, `events`
// and `logs` read). Keys: r restarts the chosen master, l follows its logs, ↑/↓ or a digit
// choose, q or Ctrl+C quit. When stdout is not a terminal it prints plain snapshots, one a
// second, or one with --once. The master reads CPU and memory only when asked, so top costs the
// masters one status request a second each.
import { ipcLines, ipcRequest } from '../control/client.js';
import { errorMessage } from '../errors.js';
import { sleep } from '../sleep.js';
import {
  actedOn,
  allMasters,
  answered,
  chosenSocket,
  type Found,
  look,
  named,
  ofDirectory,
  type Unanswered,
} from './find-master.js';
import { formatRestart } from './format.js';
import { readerGone } from './reader-gone.js';
import { Terminal } from './terminal.js';
import { chosenMaster, frame, snapshot, type TopState } from './top-view.js';

export interface TopOptions {
  name?: string;
  /** `--socket`: the master at this control socket alone (or $OVERSEER_IPC_PATH's). */
  socket?: string;
  once: boolean;
  timeout: number;
}

const REFRESH_MS = 1_000;
const KEEP_EVENTS = 50;
const KEEP_LOGS = 500;

export async function top(opts: TopOptions): Promise<number> {
  const state: TopState = {
    masters: [],
    chosen: undefined,
    events: [],
    logs: [],
    noLogs: undefined,
    message: '',
    view: 'overview',
    name: opts.name,
    socket: opts.name === undefined ? chosenSocket(opts.socket) : undefined,
    time: new Date(),
  };
  const poll = async (): Promise<void> => {
    state.masters = await masters(opts, state.socket);
    state.time = new Date();
  };
  await poll();
  if (opts.once || !process.stdout.isTTY) return plain(state, poll, opts.once);
  return live(state, poll, opts);
}

/** The named master, or the one at the socket asked for (a name comes first), or every master. */
async function masters(opts: TopOptions, socket: string | undefined): Promise<Found[]> {
  const timeout = Math.min(opts.timeout, 2_000);
  // The view is of masters that answer (a busy or stopped one has nothing to show).
  const one = (found: Found | Unanswered | undefined): Found[] => (found && answered(found) ? [found] : []);
  if (opts.name !== undefined) return one(await named(opts.name, timeout));
  if (socket !== undefined) return one(await look(socket, timeout));
  return (await allMasters(opts.timeout)).answered;
}

/** Not a terminal: a snapshot now and then each second (until a signal), or just one. */
async function plain(state: TopState, poll: () => Promise<void>, once: boolean): Promise<number> {
  process.stdout.write(snapshot(state));
  if (once)
    return state.masters.length > 0 || (state.name === undefined && state.socket === undefined) ? 0 : 1;
  // Until the reader goes (`| head`), as a terminal's view runs until q.
  while (!readerGone.aborted) {
    await sleep(REFRESH_MS, readerGone).catch(() => {});
    if (readerGone.aborted) break;
    await poll();
    process.stdout.write(`\n${snapshot(state)}`);
  }
  return 0;
}

/** The terminal view, until q or Ctrl+C. */
function live(state: TopState, poll: () => Promise<void>, opts: TopOptions): Promise<number> {
  const term = new Terminal();
  const follow = new Follower(state, () => render());
  const render = (): void => term.draw(frame(state, term.width, term.height));
  const choose = (socket: string | undefined): void => {
    if (socket === state.chosen) return;
    state.chosen = socket;
    follow.start(chosenMaster(state));
    render();
  };
  // The master of this directory is chosen first, as the other commands would act on it.
  const initial = ofDirectory(state.masters, process.cwd())[0] ?? state.masters[0];
  const restart = (): void => {
    const m = chosenMaster(state);
    if (!m) return;
    state.message = `restarting ${actedOn(m)}…`;
    render();
    ipcRequest(m.socket, 'POST', '/overseer/restart', opts.timeout).then(
      ({ body }) => {
        state.message = formatRestart(body as Record<string, unknown>, actedOn(m));
        render();
      },
      (err: unknown) => {
        state.message = `restart failed (${actedOn(m)}): ${errorMessage(err)}`;
        render();
      },
    );
  };
  return new Promise(() => {
    const quit = (): void => {
      follow.stop();
      term.restore();
      process.exit(0);
    };
    term.enter(
      (key) => {
        const at = state.masters.findIndex((m) => m.socket === state.chosen);
        if (key === 'q' || key === '\x03') quit();
        else if (key === 'r') restart();
        else if (key === 'l') state.view = state.view === 'logs' ? 'overview' : 'logs';
        else if (key === '\x1b') state.view = 'overview';
        else if (key === '\x1b[A' || key === 'k') choose(state.masters[Math.max(0, at - 1)]?.socket);
        else if (key === '\x1b[B' || key === 'j')
          choose(state.masters[Math.min(state.masters.length - 1, at + 1)]?.socket);
        else if (/^[1-9]$/.test(key)) choose(state.masters[Number(key) - 1]?.socket ?? state.chosen);
        render();
      },
      () => render(),
    );
    choose(initial?.socket);
    render();
    const tick = (): void => {
      setTimeout(() => {
        void poll().then(() => {
          if (!chosenMaster(state)) choose(state.masters[0]?.socket);
          else follow.resume(chosenMaster(state));
          render();
          tick();
        });
      }, REFRESH_MS);
    };
    tick();
  });
}

/**
 * The chosen master's events and log lines, followed over its control socket; followed anew
 * when both streams have ended while it is still chosen (it stopped and came back, or handed
 * over: a master handoff keeps the socket's path).
 */
class Follower {
  #live: { controller: AbortController; open: number } | undefined;

  constructor(
    private readonly state: TopState,
    private readonly changed: () => void,
  ) {}

  start(m: Found | undefined): void {
    this.stop();
    this.state.events = [];
    this.state.logs = [];
    this.state.noLogs = undefined;
    if (m) this.#follow(m);
  }

  /** Starts again once what it followed has ended. */
  resume(m: Found | undefined): void {
    if (m && (this.#live === undefined || this.#live.open === 0)) this.start(m);
  }

  stop(): void {
    this.#live?.controller.abort();
    this.#live = undefined;
  }

  #follow(m: Found): void {
    const live = { controller: new AbortController(), open: 0 };
    this.#live = live;
    const keep = (list: Record<string, unknown>[], line: Record<string, unknown>, max: number): void => {
      list.push(line);
      if (list.length > max) list.splice(0, list.length - max);
      this.changed();
    };
    const stream = (
      route: string,
      onLine: (l: Record<string, unknown>) => void,
      onError: (e: unknown) => void,
    ) => {
      live.open++;
      void ipcLines(m.socket, route, onLine, live.controller.signal)
        .catch(onError)
        .finally(() => live.open--);
    };
    stream(
      '/overseer/events',
      (e) => keep(this.state.events, e, KEEP_EVENTS),
      () => {},
    );
    // The last lines now, then each new one; a master that keeps none says why.
    stream(
      '/overseer/logs?n=100&follow=1',
      (l) => {
        if (typeof l.text === 'string') keep(this.state.logs, l, KEEP_LOGS);
      },
      (err) => {
        this.state.noLogs = errorMessage(err);
        this.changed();
      },
    );
  }
}
