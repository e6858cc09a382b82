// The sanity check: run the candidate exactly as a worker would be run, with
// OVERSEER_BIN_CHECK=<token>. It passes when the LAST line of its stdout is the token, so a
// program that logs at start still passes (the Go project's PRs #72/#82).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { debug } from '../debug.js';
import { ENV } from '../env.js';
import { codedError } from '../errors.js';

const MAX_OUTPUT = 64 * 1024;

export function runSanityCheck(command: string, args: string[], timeoutMs: number): Promise<void> {
  const token = randomBytes(16).toString('hex');
  const env: NodeJS.ProcessEnv = { ...process.env, [ENV.binCheck]: token };
  for (const key of Object.keys(env))
    if (key.startsWith('OVERSEER_') && key !== ENV.binCheck) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out = (out + d).slice(-MAX_OUTPUT);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-MAX_OUTPUT);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
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
    child.on('close', (code, signal) => {
      clearTimeout(timer);
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
