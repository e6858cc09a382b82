// Staging on its own: hashing, mode, and clean failure when the directory cannot be written.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { stage, tempPathFor } from '../src/upgrade/stage.js';

test('stage writes next to binPath, hashes, copies the mode', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-stage-'));
  const bin = path.join(dir, 'app.mjs');
  fs.writeFileSync(bin, 'old');
  fs.chmodSync(bin, 0o750);
  const staged = await stage(Readable.from([Buffer.from('new '), Buffer.from('version')]), bin);
  assert.equal(path.dirname(staged.tempPath), dir);
  assert.ok(staged.tempPath.endsWith('.mjs'), 'keeps the extension so node loads it the same way');
  assert.equal(staged.sha256, createHash('sha256').update('new version').digest('hex'));
  assert.equal(staged.size, 11);
  assert.equal(fs.statSync(staged.tempPath).mode & 0o777, 0o750);
  fs.rmSync(dir, { recursive: true });
});

test('a directory that cannot be written is a clear error and leaves nothing', async () => {
  // /proc refuses new files even to root.
  await assert.rejects(stage(Readable.from(['x']), '/proc/version'), (err: Error & { code?: string }) => {
    assert.match(err.message, /staging failed: cannot write next to \/proc\/version/);
    assert.ok(err.code);
    return true;
  });
});

test('a stream that fails mid-way leaves no temp file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-stage-'));
  const bin = path.join(dir, 'app.mjs');
  fs.writeFileSync(bin, 'old');
  const failing = new Readable({
    read() {
      this.push('half');
      this.destroy(Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }));
    },
  });
  await assert.rejects(stage(failing, bin), { code: 'ECONNRESET' });
  await assert.rejects(stage(Readable.from([]), bin), { code: 'ERR_OVERSEER_EMPTY_CANDIDATE' });
  assert.deepEqual(fs.readdirSync(dir), ['app.mjs']);
  assert.match(path.basename(tempPathFor(bin)), /^\.app\.overseer-new-\d+-[0-9a-f]{8}\.mjs$/);
  fs.rmSync(dir, { recursive: true });
});
