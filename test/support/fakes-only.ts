// Preloaded (--import) into each unit test file's process by `npm run test:unit`: a unit test
// runs on fakes and in-process sockets alone, so starting a child process there is a mistake,
// and this makes it a loud one. A test that needs a real process belongs with the end-to-end
// tests. Only test files are guarded (node --test marks their processes with
// NODE_TEST_CONTEXT), never the runner that starts them.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const STARTERS = ['spawn', 'spawnSync', 'fork', 'exec', 'execSync', 'execFile', 'execFileSync'] as const;

if (process.env.NODE_TEST_CONTEXT !== undefined) {
  const exports = childProcess as unknown as Record<string, unknown>;
  for (const name of STARTERS) {
    exports[name] = () => {
      throw new Error(
        `a unit test started a process (child_process.${name}): it belongs with the end-to-end tests (scripts/test.mjs)`,
      );
    };
  }
  syncBuiltinESMExports(); // `import { spawn } from 'node:child_process'` sees the guard too
}
