// The README's generated tables are the sources' own: the option tables are the option table's
// (scripts/readme-options.mjs), the code tables the registry's (scripts/readme-codes.mjs). Each
// script, run with --check, fails when the README differs from what it would write.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './support/paths.js';

const check = (script: string): string =>
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', script), '--check'], { encoding: 'utf8' });

test("the README's option tables are the option table's", () => {
  assert.match(check('readme-options.mjs'), /match/);
});

test("the README's code tables are the registry's, in its order and words", () => {
  assert.match(check('readme-codes.mjs'), /match/);
});
