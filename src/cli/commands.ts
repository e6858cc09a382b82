// The `overseer` command's control-socket commands (ls, status, restart, reexec,
// trigger-update, events, logs): each finds a master and asks its control socket. Loaded only
// for them (main.ts), so `overseer run`'s master carries no HTTP client.
import { ipcLines, ipcRequest } from '../control/client.js';
import { errorCode, errorMessage, withCode } from '../errors.js';
import { actedOn, allMasters, type Found, findMaster } from './find-master.js';
import { formatEvent, formatLs, formatRestart, formatStatus, formatUpdate } from './format.js';
import { readerGone } from './reader-gone.js';

/** A command's failure, with the code of what caused it (the master's, or the system's) where it has one. */
class CommandError extends Error {
  readonly code: string | undefined;
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = errorCode(cause);
  }
}

export interface Options {
  socket?: string;
  /** The master's name, when the command line gives one. */
  name?: string;
  json: boolean;
  timeout: number;
  follow: boolean;
  lines: number;
  prefix: boolean;
  once: boolean;
}

async function call(
  m: Found,
  opts: Options,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    const r = await ipcRequest(m.socket, method, path, opts.timeout);
    return {
      status: r.status,
      body: (typeof r.body === 'object' && r.body !== null ? r.body : { raw: r.body }) as Record<
        string,
        unknown
      >,
    };
  } catch (err) {
    throw new CommandError(`cannot reach the master at ${m.socket}: ${errorMessage(err)}`, err);
  }
}

/** What ends a followed stream: Ctrl+C, or a reader that has gone. */
function streamEnd(): AbortSignal {
  const interrupted = new AbortController();
  process.once('SIGINT', () => interrupted.abort());
  return AbortSignal.any([interrupted.signal, readerGone]);
}

/** The answer: --json's on stdout always (its `ok` says how it went); as text, a failure goes to stderr. */
function print(opts: Options, body: unknown, human: () => string, failed = false): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
  else (failed ? process.stderr : process.stdout).write(human());
}

/** Every master that is there: one that is busy or stopped too, with why it did not answer. */
export async function ls(opts: Options): Promise<number> {
  const { answered, unanswered } = await allMasters(opts.timeout);
  const json = [
    ...answered,
    ...unanswered.map((m) => ({
      socket: m.socket,
      error: { message: m.error.message, code: errorCode(m.error) },
    })),
  ];
  print(opts, json, () => formatLs(answered, unanswered));
  return 0;
}

/** Finding the master asked for its status already. */
export async function status(opts: Options): Promise<number> {
  const { status: body } = await findMaster(opts);
  print(opts, body, () => formatStatus(body));
  return 0;
}

/** Each command that acts says on which master: `restarted in 250 ms (api, pid 4242)`. */
export async function restart(opts: Options): Promise<number> {
  const m = await findMaster(opts);
  const { body } = await call(m, opts, 'POST', '/overseer/restart');
  print(opts, body, () => `${formatRestart(body, actedOn(m))}\n`, !body.ok);
  return body.ok ? 0 : 1;
}

export async function reexec(opts: Options): Promise<number> {
  const m = await findMaster(opts);
  const { body } = await call(m, opts, 'POST', '/overseer/reexec');
  print(
    opts,
    body,
    () =>
      body.ok
        ? `a new master (pid ${body.pid}) took over in ${body.durationMs} ms (${actedOn(m)})\n`
        : `reexec failed (${actedOn(m)}): ${withCode(body.error, body.code)}\n`,
    !body.ok,
  );
  return body.ok ? 0 : 1;
}

export async function triggerUpdate(opts: Options): Promise<number> {
  const m = await findMaster(opts);
  const { body } = await call(m, opts, 'POST', '/overseer/trigger-update');
  const ok = body.ok === true && body.result !== 'failed';
  print(opts, body, () => `${formatUpdate(body, actedOn(m))}\n`, !ok);
  return ok ? 0 : 1;
}

export async function events(opts: Options): Promise<number> {
  const { socket } = await findMaster(opts);
  try {
    await ipcLines(
      socket,
      '/overseer/events',
      (e) => process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : formatEvent(e)),
      streamEnd(),
    );
  } catch (err) {
    throw new CommandError(`cannot follow events at ${socket}: ${errorMessage(err)}`, err);
  }
  return 0;
}

/** The workers' lines as the master printed them, stdout's to stdout and stderr's to stderr. */
export async function logs(opts: Options): Promise<number> {
  const m = await findMaster(opts);
  const socket = m.socket;
  const prefix = opts.prefix ? `[${String(m.status.name ?? m.status.pid)}] ` : '';
  const path = `/overseer/logs?n=${opts.lines}${opts.follow ? '&follow=1' : ''}`;
  try {
    await ipcLines(
      socket,
      path,
      (l) => {
        if (opts.json) process.stdout.write(`${JSON.stringify(l)}\n`);
        else if (typeof l.missed === 'number') {
          process.stderr.write(`overseer: ${l.missed} lines missed (this reader fell behind)\n`);
        } else
          (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${prefix}${String(l.text)}\n`);
      },
      streamEnd(),
    );
  } catch (err) {
    throw new CommandError(`cannot read logs at ${socket}: ${errorMessage(err)}`, err);
  }
  return 0;
}
