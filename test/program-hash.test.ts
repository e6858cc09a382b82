// The program's hash follows its file: taken again once the file changed (a deploy that
// replaces it), never re-read while it has not, set by an upgrade without a read, and kept
// when the file cannot be read.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ProgramHash } from '../src/master/program-hash.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-program-hash-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
let n = 0;
function program(text: string): string {
  const file = path.join(tmp, `app${++n}.js`);
  fs.writeFileSync(file, text);
  return file;
}

test('of(): the hash of the file as it is', async () => {
  const h = await ProgramHash.of(program('v1'));
  assert.equal(h.value, sha('v1'));
});

test('current() and refresh(): the same hash while the file is unchanged, the new one once it changed', async () => {
  const file = program('v1');
  const h = await ProgramHash.of(file);
  assert.equal(h.current(), sha('v1'));
  assert.equal(await h.refresh(), sha('v1'));
  fs.writeFileSync(file, 'v2, longer');
  assert.equal(h.current(), sha('v2, longer'));
  assert.equal(h.value, sha('v2, longer'));
  // Replaced as a deploy does it: a new file renamed over the old one, same size.
  fs.writeFileSync(`${file}.new`, 'v3, longer');
  fs.renameSync(`${file}.new`, file);
  assert.equal(await h.refresh(), sha('v3, longer'));
  assert.equal(h.current(), sha('v3, longer'));
});

test('an unchanged file is not read again: set() by an upgrade stands until the file changes', async () => {
  const file = program('v1');
  const h = await ProgramHash.of(file);
  h.set('f'.repeat(64)); // what the upgrader says of the file it put in place
  assert.equal(h.current(), 'f'.repeat(64));
  assert.equal(await h.refresh(), 'f'.repeat(64));
  fs.appendFileSync(file, '!');
  assert.equal(h.current(), sha('v1!'));
});

test('a file that is gone or unreadable keeps the last hash', async () => {
  const file = program('v1');
  const h = await ProgramHash.of(file);
  fs.rmSync(file);
  assert.equal(h.current(), sha('v1'));
  assert.equal(await h.refresh(), sha('v1'));
  fs.mkdirSync(file); // a directory in its place: it stats, and reading it fails (EISDIR)
  assert.equal(h.current(), sha('v1'));
  assert.equal(await h.refresh(), sha('v1'));
  fs.rmdirSync(file);
  fs.writeFileSync(file, 'v2');
  assert.equal(h.current(), sha('v2'));
});

test('known(): a hash given as is, for a file that need not exist', () => {
  const h = ProgramHash.known(path.join(tmp, 'nothing.js'), 'h1');
  assert.equal(h.current(), 'h1');
});
