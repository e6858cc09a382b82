// The sanity check: run the candidate exactly as a worker would be run, with
// OVERSEER_BIN_CHECK=<token>. It passes when the LAST line of its stdout is the token, so a
// program that logs at start still passes (the Go project's PRs #72/#82). The candidate runs
// in a process group of its own, which is killed when it exits or times out: nothing it
// started outlives the check, and no pipe of it stays open in the master.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { ENV } from '../contract/env.js';
import { codedError } from '../errors.js';
import { debug } from '../log.js';
import { platform } from '../os/index.js';

const MAX_OUTPUT = 64 * 1024;

/** `extraEnv`: what the candidate needs to run as a worker would (`overseer run`'s ready mode). */
export function runSanityCheck(
  command: string,
  args: string[],
  timeoutMs: number,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const token = randomBytes(16).toString('hex');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('OVERSEER_')) delete env[key];
  Object.assign(env, extraEnv, { [ENV.binCheck]: token });
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: platform.ownProcessGroup,
      windowsHide: true,
    });
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-MAX_OUTPUT);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-MAX_OUTPUT);
    });
    const timer = setTimeout(() => {
      platform.killProcessGroup(child);
      // Whatever escaped the group keeps the pipes; they are the master's fds, so close them.
      child.stdout.destroy();
      child.stderr.destroy();
      reject(
        codedError(
          Error,
          'ERR_OVERSEER_SANITY_TIMEOUT',
          `the sanity check did not finish within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        codedError(Error, 'ERR_OVERSEER_SANITY_CHECK', `the sanity check could not start: ${e.message}`, e),
      );
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      platform.killProcessGroup(child); // its children too, so the pipes close
    });
    child.on('close', (closeCode, closeSignal) => {
      clearTimeout(timer);
      const code = exit?.code ?? closeCode;
      const signal = exit?.signal ?? closeSignal;
      const lines = out.split(/\r?\n/).filter((l) => l.trim() !== '');
      const last = lines.at(-1)?.trim();
      debug('sanity check: exit %s %s, last line %j', code, signal, last);
      if (code === 0 && last === token) return resolve();
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const detail = last === token ? '' : ' and did not print the token last';
      const tail = err.trim().split('\n').slice(-3).join(' | ');
      reject(
        codedError(
          Error,
          'ERR_OVERSEER_SANITY_CHECK',
          `the new version ${how}${detail}${tail ? `: ${tail}` : ''}`,
        ),
      );
    });
  });
}
