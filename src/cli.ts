#!/usr/bin/env node
// The `overseer` command: an external client of a running master's control socket.
import { parseArgs } from 'node:util';
import { version } from './version.js';

const USAGE = `usage: overseer <command> [options]

options:
  -h, --help      show this help
  -v, --version   print overseer's version
`;

function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    process.stderr.write(`overseer: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  process.stderr.write(`overseer: unknown command '${positionals[0]}'\n${USAGE}`);
  return 2;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
  });
}

process.exitCode = main(process.argv.slice(2));
