// Where the tests find what they run: the repository, the built CLI, and the programs in
// test/support/fixtures/. Fixtures written in TypeScript run compiled, from dist/; the others
// (.cjs, .mjs, .py) run from the source tree, since tsc does not copy them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, with a trailing separator (this file runs as dist/test/support/paths.js). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What the package runs (scripts/bundle.mjs): its entry points and its `overseer` command. */
export const BUNDLE = path.join(ROOT, 'dist', 'bundle');

/** The `overseer` command, as built. */
export const CLI = path.join(BUNDLE, 'cli', 'main.js');

/**
 * Whether any user can read `file` (every directory above it searchable, the file readable): a
 * test that runs overseer as another user (uid 65534) runs it from where it is, which a checkout
 * in a private directory (`mktemp -d`) does not allow.
 */
export function readableByAll(file: string): boolean {
  for (let p = file; ; p = path.dirname(p)) {
    const mode = fs.statSync(p).mode;
    if ((mode & (p === file ? 0o004 : 0o001)) === 0) return false;
    if (p === path.dirname(p)) return true;
  }
}

/** A program in test/support/fixtures/: `app.js` is the compiled app.ts, `run/app.cjs` the source file. */
export function fixture(name: string): string {
  return name.endsWith('.js')
    ? path.join(ROOT, 'dist', 'test', 'support', 'fixtures', name)
    : path.join(ROOT, 'test', 'support', 'fixtures', name);
}

/** A file under the repository (an example, a unit file). */
export function repoPath(file: string): string {
  return path.join(ROOT, file);
}
