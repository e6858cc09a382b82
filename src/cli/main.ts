#!/usr/bin/env node
// The `overseer` command: an external client of a running master's control socket, and
// (`overseer run`, loaded only for it) the master of an unmodified app.
// Exit codes: 0 done, 1 failed (or no master), 2 bad usage; `run`: the master's own.
import { parseArgs } from 'node:util';
import { errorCode, errorMessage, withCode } from '../errors.js';
import { TIMER_MAX } from '../options.js';
import { version } from '../version.js';
import type { Options } from './commands.js';

const USAGE = `usage: overseer <command> [NAME] [options]

commands:
  run <script>     run an unmodified app with hitless restarts (overseer run --help)
  ls               list this user's running masters
  status [NAME]    show a master's status, its workers' CPU and memory
  restart [NAME]   restart its workers (returns when they are ready)
  trigger-update [NAME]
                   check for a new version now and report the result
  reexec [NAME]    replace the master itself with a new one, on the same sockets
  events [NAME]    follow its lifecycle events
  logs [NAME]      print its workers' output (overseer run): -n LINES (default 100),
                   -f to follow, --prefix to begin each line with [NAME]
  top [NAME]       a live view of every master (or NAME): workers, CPU, memory, events,
                   logs; keys: r restart, l logs, q quit (--once: one plain snapshot)

NAME is a master's name (overseer run --name api; by default its package.json name).
Without one, a command acts on the master whose app is in this directory (or a parent),
else on the only one running.

options:
  -s, --socket PATH   the master's control socket, instead of a name
                      (default: $OVERSEER_IPC_PATH)
      --json          print JSON
  -t, --timeout MS    how long to wait for an answer (default 60000)
  -h, --help          show this help
  -v, --version       print overseer's version
`;

class UsageError extends Error {}

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
      prefix: { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
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
  // An empty --socket (`-s "$SOCK"` with SOCK unset) names no master: never fall back to any.
  if (values.socket === '') throw new UsageError('--socket needs a path');
  const timeout = Number(values.timeout);
  // Past TIMER_MAX a timer fires at once: the command would give up before it asked.
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > TIMER_MAX)
    throw new UsageError(`--timeout must be a number of milliseconds (1 to 2^31-1)`);
  const lines = Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`-n must be a number of lines`);
  const [command, name, ...extra] = positionals;
  const opts: Options = {
    json: values.json === true,
    timeout,
    follow: values.follow === true,
    lines,
    prefix: values.prefix === true,
    once: values.once === true,
    ...(values.socket ? { socket: values.socket } : {}),
    ...(name === undefined ? {} : { name }),
  };
  if (command === undefined) throw new UsageError('a command is required');
  if (extra.length > 0 || (command === 'ls' && name !== undefined))
    throw new UsageError(`unexpected argument '${command === 'ls' ? name : extra[0]}'`);
  if (opts.socket !== undefined && name !== undefined)
    throw new UsageError('name a master, or give its --socket, not both');
  // The control socket's commands load only for them: `overseer run` is a master, and carries none.
  const commands = await import('./commands.js');
  (await import('./reader-gone.js')).watchReaders();
  switch (command) {
    case 'ls':
      return commands.ls(opts);
    case 'status':
      return commands.status(opts);
    case 'restart':
      return commands.restart(opts);
    case 'trigger-update':
      return commands.triggerUpdate(opts);
    case 'events':
      return commands.events(opts);
    case 'logs':
      return commands.logs(opts);
    case 'reexec':
      return commands.reexec(opts);
    case 'top': {
      const { top } = await import('./top.js');
      return top(opts);
    }
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const usage =
      err instanceof UsageError ||
      (err as { usage?: unknown }).usage === true ||
      errorCode(err)?.startsWith('ERR_PARSE_ARGS');
    const help = argv[0] === 'run' ? 'overseer run --help' : 'overseer --help';
    // overseer's own errors already say who speaks ('overseer run: …'). A usage error is
    // followed by where the usage is; any other ends with its code, where it has one.
    // One line: parseArgs's own advice comes in several (`-n -5`: "ambiguous", then how to
    // give a value that starts with a dash).
    const message = usage ? errorMessage(err).replace(/\s*\n\s*/g, ' ') : errorMessage(err);
    const line = /^overseer\b/.test(message) ? message : `overseer: ${message}`;
    const text = usage ? `${line}\nrun '${help}' for usage` : withCode(line, errorCode(err));
    process.stderr.write(`${text}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
