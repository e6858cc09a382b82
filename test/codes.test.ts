// The one registry of codes: everything src/ uses is in it, and the README lists it all, as the
// registry says it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { codes, describeCode, warningCodes } from '../src/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every code a source file names is in the registry, with a meaning', () => {
  const env = new Set(['OVERSEER_IS_WORKER', 'OVERSEER_IS_SLAVE', 'OVERSEER_WORKER_ID', 'OVERSEER_SLAVE_ID']);
  const unknown: string[] = [];
  for (const file of sources(path.join(root, 'src'))) {
    if (file.endsWith(`${path.sep}codes.ts`)) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const [, code] of text.matchAll(/'((?:ERR_)?OVERSEER_[A-Z_]+)'/g)) {
      if (code!.startsWith('ERR_') ? code! in codes : code! in warningCodes || env.has(code!)) continue;
      if (/^OVERSEER_(BIN_|NUM_|IPC_PATH|ADDRESSES|MASTER_PID|NO_NATIVE|CLUSTER_|APP_|HANDOFF$)/.test(code!))
        continue; // env variables
      unknown.push(`${path.relative(root, file)}: ${code}`);
    }
  }
  assert.deepEqual(unknown, []);
  for (const code of [...Object.keys(codes), ...Object.keys(warningCodes)]) {
    assert.ok((describeCode(code) ?? '').length > 10, `${code} has no meaning`);
  }
  assert.equal(codes.ERR_OVERSEER_READY_TIMEOUT, 'ERR_OVERSEER_READY_TIMEOUT');
  // Only the registry's own codes: not what every object inherits.
  for (const name of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'ENOENT'])
    assert.equal(describeCode(name), undefined, name);
});

test('the README lists every code', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const missing = [...Object.keys(codes), ...Object.keys(warningCodes)].filter(
    (c) => !readme.includes(`\`${c}\``),
  );
  assert.deepEqual(missing, []);
});
