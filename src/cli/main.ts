#!/usr/bin/env node
// The `overseer` command: an external client of a running master's control socket, and
// (`overseer run`, loaded only for it) the master of an unmodified app.
// Exit codes: 0 done, 1 failed (or no master), 2 bad usage; `run`: the master's own.
import { parseArgs } from 'node:util';
import { ipcLines, ipcRequest } from '../control/client.js';
import { errorCode, errorMessage } from '../errors.js';
import { platform } from '../os/index.js';
import { version } from '../version.js';
import { formatEvent, formatLs, formatStatus, formatUpdate } from './format.js';

const USAGE = `usage: overseer <command> [options]

commands:
  run <script>     run an unmodified app with hitless restarts (overseer run --help)
  ls               list this user's running masters
  status           show a master's status
  restart          restart its workers (returns when they are ready)
  trigger-update   check for a new version now and report the result
  reexec           replace the master itself with a new one, on the same sockets
  events           follow its lifecycle events
  logs             print its workers' output (overseer run): -n LINES (default 100), -f to follow

options:
  -s, --socket PATH   the master's control socket (default: $OVERSEER_IPC_PATH,
                      or the only running master)
      --json          print JSON
  -t, --timeout MS    how long to wait for an answer (default 60000)
  -h, --help          show this help
  -v, --version       print overseer's version
`;

class UsageError extends Error {}
class CommandError extends Error {}

interface Options {
  socket?: string;
  json: boolean;
  timeout: number;
  follow: boolean;
  lines: number;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'run') {
    const { runCommand } = await import('./run-command.js');
    return runCommand(argv.slice(1));
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      socket: { type: 'string', short: 's' },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string', short: 't', default: '60000' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      follow: { type: 'boolean', short: 'f', default: false },
      lines: { type: 'string', short: 'n', default: '100' },
    },
  });
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--timeout must be a positive number of ms`);
  const lines = Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`-n must be a number of lines`);
  const opts: Options = {
    json: values.json === true,
    timeout,
    follow: values.follow === true,
    lines,
    ...(values.socket ? { socket: values.socket } : {}),
  };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError('a command is required');
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  switch (command) {
    case 'ls':
      return ls(opts);
    case 'status':
      return status(opts);
    case 'restart':
      return restart(opts);
    case 'trigger-update':
      return triggerUpdate(opts);
    case 'events':
      return events(opts);
    case 'logs':
      return logs(opts);
    case 'reexec':
      return reexec(opts);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** Masters that answer; stale socket files (a killed master's) are skipped. */
async function liveMasters(timeout: number): Promise<{ socket: string; status: Record<string, unknown> }[]> {
  const ipc = await platform.controlSocket();
  const found = await Promise.all(
    ipc.listIPCPaths().map(async (socket) => {
      try {
        const r = await ipcRequest(socket, 'GET', '/overseer/status', Math.min(timeout, 2_000));
        return r.status === 200 ? { socket, status: r.body as Record<string, unknown> } : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((m) => m !== undefined);
}

async function pickSocket(opts: Options): Promise<string> {
  if (opts.socket) return opts.socket;
  if (process.env.OVERSEER_IPC_PATH) return process.env.OVERSEER_IPC_PATH;
  const masters = await liveMasters(opts.timeout);
  if (masters.length === 1) return masters[0]!.socket;
  if (masters.length === 0)
    throw new CommandError('no running master found (see `overseer ls`, or pass --socket)');
  throw new CommandError(
    `${masters.length} masters are running; pick one with --socket (see \`overseer ls\`)`,
  );
}

async function call(
  opts: Options,
  method: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const socket = await pickSocket(opts);
  try {
    const r = await ipcRequest(socket, method, path, opts.timeout);
    return {
      status: r.status,
      body: (typeof r.body === 'object' && r.body !== null ? r.body : { raw: r.body }) as Record<
        string,
        unknown
      >,
    };
  } catch (err) {
    throw new CommandError(`cannot reach the master at ${socket}: ${errorMessage(err)}`);
  }
}

function print(opts: Options, body: unknown, human: () => string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(body, null, 2)}\n` : human());
}

async function ls(opts: Options): Promise<number> {
  const masters = await liveMasters(opts.timeout);
  print(opts, masters, () => formatLs(masters));
  return 0;
}

async function status(opts: Options): Promise<number> {
  const { status: code, body } = await call(opts, 'GET', '/overseer/status');
  if (code !== 200) throw new CommandError(`status: ${String(body.error ?? `HTTP ${code}`)}`);
  print(opts, body, () => formatStatus(body));
  return 0;
}

async function restart(opts: Options): Promise<number> {
  const { body } = await call(opts, 'POST', '/overseer/restart');
  print(opts, body, () =>
    body.ok ? `restarted in ${body.durationMs} ms\n` : `restart failed: ${body.error}\n`,
  );
  return body.ok ? 0 : 1;
}

async function reexec(opts: Options): Promise<number> {
  const { body } = await call(opts, 'POST', '/overseer/reexec');
  print(opts, body, () =>
    body.ok
      ? `a new master (pid ${body.pid}) took over in ${body.durationMs} ms\n`
      : `reexec failed: ${body.error}\n`,
  );
  return body.ok ? 0 : 1;
}

async function triggerUpdate(opts: Options): Promise<number> {
  const { body } = await call(opts, 'POST', '/overseer/trigger-update');
  print(opts, body, () => formatUpdate(body));
  return body.ok && body.result !== 'failed' ? 0 : 1;
}

async function events(opts: Options): Promise<number> {
  const socket = await pickSocket(opts);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    await ipcLines(
      socket,
      '/overseer/events',
      (e) => process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : formatEvent(e)),
      controller.signal,
    );
  } catch (err) {
    throw new CommandError(`cannot follow events at ${socket}: ${errorMessage(err)}`);
  }
  return 0;
}

/** The workers' lines as the master printed them, stdout's to stdout and stderr's to stderr. */
async function logs(opts: Options): Promise<number> {
  const socket = await pickSocket(opts);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const path = `/overseer/logs?n=${opts.lines}${opts.follow ? '&follow=1' : ''}`;
  try {
    await ipcLines(
      socket,
      path,
      (l) => {
        if (opts.json) process.stdout.write(`${JSON.stringify(l)}\n`);
        else if (typeof l.missed === 'number') {
          process.stderr.write(`overseer: ${l.missed} lines missed (this reader fell behind)\n`);
        } else (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${String(l.text)}\n`);
      },
      controller.signal,
    );
  } catch (err) {
    throw new CommandError(`cannot read logs at ${socket}: ${errorMessage(err)}`);
  }
  return 0;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    // A master (`run`) is done once it says so, whatever its workers' pipes still hold.
    if (argv[0] === 'run') process.exit(code);
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage =
      err instanceof UsageError ||
      (err as { usage?: unknown }).usage === true ||
      errorCode(err)?.startsWith('ERR_PARSE_ARGS');
    const help = argv[0] === 'run' ? 'overseer run --help' : 'overseer --help';
    // overseer's own errors already say who speaks ('overseer run: …').
    const message = errorMessage(err);
    const line = /^overseer\b/.test(message) ? message : `overseer: ${message}`;
    process.stderr.write(`${line}\n${usage ? `run '${help}' for usage\n` : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
