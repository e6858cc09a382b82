// All of overseer's logging: NODE_DEBUG=overseer (or config.debug) for the debug log, and
// process warnings of type OverseerWarning unless config.noWarn is set.
import { debuglog, format } from 'node:util';
import type { WarningCode } from './codes.js';

const nodeDebug = debuglog('overseer');
let forced = false;
let warnings = true;

export function debug(fmt: string, ...args: unknown[]): void {
  if (nodeDebug.enabled) nodeDebug(fmt, ...args);
  else if (forced) process.stderr.write(`OVERSEER ${process.pid}: ${format(fmt, ...args)}\n`);
}

export function warn(message: string, code: WarningCode): void {
  debug('warning %s: %s', code, message);
  if (warnings) process.emitWarning(message, { type: 'OverseerWarning', code });
}

/** Applies config.debug and config.noWarn for this process. */
export function configureLogging(opts: { debug: boolean; noWarn: boolean }): void {
  forced = opts.debug;
  warnings = !opts.noWarn;
}
