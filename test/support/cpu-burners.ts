// A busy host for a test: processes that keep every core busy, each bounded in time (it stops
// by itself after `maxMs`) and stopped by its own pid, so a test proves what it promises on a
// machine where other work competes for the CPU.
import os from 'node:os';
import { node, type TestProcess } from './process.js';

export interface Burners {
  /** How many burn. */
  readonly count: number;
  /** Kills each burner by its pid and waits for it to be gone. */
  stop(): Promise<void>;
}

/** One busy loop per core (or `count`), each ending by itself after `maxMs`. */
export async function burnCpu(opts: { count?: number; maxMs: number }): Promise<Burners> {
  const count = opts.count ?? os.availableParallelism();
  // A tight loop that checks the clock now and then, so a burner that is never stopped still ends.
  const source = `const end = Date.now() + ${opts.maxMs}; let x = 0;
console.log('burning');
while (Date.now() < end) for (let i = 0; i < 1e6; i++) x = (x * 31 + i) | 0;`;
  const burners: TestProcess[] = Array.from({ length: count }, () =>
    node('-e', [source], { label: 'burner' }),
  );
  // Each one busy before the test goes on.
  await Promise.all(burners.map((b) => b.line(/^burning$/)));
  return {
    count,
    async stop() {
      await Promise.all(burners.map((b) => b.stop(1_000, 'SIGKILL')));
    },
  };
}
