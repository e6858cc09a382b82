// Child processes for the bench: a node script run through the tests' process helper (which
// follows the JSON lines it prints, waits within bounds and stops it by its own pid), and a
// wait until its port answers.
import { setTimeout as sleep } from 'node:timers/promises';
import { get } from '../test/support/http.js';
import { TestProcess } from '../test/support/process.js';

export { freePort, get } from '../test/support/http.js';

export class NodeProcess extends TestProcess {
  constructor(script: string, env: NodeJS.ProcessEnv = {}, args: readonly string[] = []) {
    super(process.execPath, [script, ...args], { env, label: script.split(/[\\/]/).pop() ?? script });
  }
}

/** Polls GET / until it answers 2xx: `tries` attempts, `intervalMs` apart. */
export async function waitForHttp(port: number, tries = 100, intervalMs = 100): Promise<void> {
  let last: unknown;
  for (let i = 0; i < tries; i++) {
    try {
      const { status } = await get(port, { timeoutMs: 1_000 });
      if (status >= 200 && status < 300) return;
      last = `HTTP ${status}`;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`127.0.0.1:${port} did not answer after ${tries} tries: ${String(last)}`);
}
