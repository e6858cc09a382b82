// FileFetcher against real files in a temp directory.
import assert from 'node:assert/strict';
import { appendFile, mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileFetcher } from '../src/fetcher/index.js';
import { optionChecker, resources, signal, text, tick } from './support/fetcher-server.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'overseer-fetcher-file-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the first fetch takes the existing file; a new one is picked up quickly through the watch', async () => {
  const path = join(dir, 'watch.js');
  await writeFile(path, 'v1');
  // A long poll interval: only the watch can make this fast.
  const f = new FileFetcher({ path, interval: 60_000 });
  const first = await f.fetch(signal());
  assert.equal(await text(first), 'v1');
  assert.equal(first?.name, 'watch.js');
  assert.equal(first?.source, path);
  assert.match(first?.version ?? '', /^\d{4}-\d\d-\d\dT/);
  first?.commit?.();

  const started = Date.now();
  const pending = f.fetch(signal());
  await tick(100);
  // A deploy that renames the new version into place.
  await writeFile(`${path}.tmp`, 'v2');
  await rename(`${path}.tmp`, path);
  assert.equal(await text(await pending), 'v2');
  const took = Date.now() - started;
  assert.ok(took < 2000, `took ${took} ms`);
});

test('a file written in chunks is taken only once it has stopped changing', async () => {
  const path = join(dir, 'chunks.js');
  await writeFile(path, 'start;');
  const f = new FileFetcher({ path, interval: 60_000 });
  (await f.fetch(signal()))?.commit?.();
  const pending = f.fetch(signal());
  const chunks = ['a;', 'b;', 'c;', 'd;', 'e;'];
  for (const c of chunks) {
    await appendFile(path, c);
    await tick(100);
  }
  assert.equal(await text(await pending), `start;${chunks.join('')}`);
});

test('a missing file is no update, and its later arrival is one (polling when the directory is missing)', async () => {
  const sub = join(dir, 'later');
  const path = join(sub, 'app.js');
  const f = new FileFetcher({ path, interval: 50 });
  assert.equal(await f.fetch(signal()), null);
  assert.equal(await f.fetch(signal(), { immediate: true }), null);
  const pending = f.fetch(signal());
  await tick(100);
  await mkdir(sub);
  await writeFile(path, 'arrived');
  assert.equal(await text(await pending), 'arrived');
});

test('committed content is not returned again; uncommitted content is', async () => {
  const path = join(dir, 'commit.js');
  await writeFile(path, 'same');
  const f = new FileFetcher({ path });
  const v = await f.fetch(signal());
  assert.equal(await text(v), 'same');
  // Not committed (a failed staging, say): offered again.
  assert.equal(await text(await f.fetch(signal(), { immediate: true })), 'same');
  const again = await f.fetch(signal(), { immediate: true });
  await text(again);
  again?.commit?.();
  assert.equal(await f.fetch(signal(), { immediate: true }), null);
  // Touched, same bytes: the hash says no update.
  const later = new Date(Date.now() + 5000);
  await utimes(path, later, later);
  assert.equal(await f.fetch(signal(), { immediate: true }), null);
  // A waiting fetch sees the touch as a change, hashes, and still says no update.
  const t2 = new Date(Date.now() + 10_000);
  const pending = f.fetch(signal());
  await tick(50);
  await utimes(path, t2, t2);
  assert.equal(await pending, null);
  await writeFile(path, 'different');
  assert.equal(await text(await f.fetch(signal(), { immediate: true })), 'different');
});

test('abort rejects promptly with the reason and leaves no watcher or timer', async () => {
  const path = join(dir, 'abort.js');
  await writeFile(path, 'x');
  const f = new FileFetcher({ path, interval: 20 });
  (await f.fetch(signal()))?.commit?.();
  await tick(20);
  const before = resources();

  const ac = new AbortController();
  const reason = new Error('shutting down');
  const pending = f.fetch(ac.signal);
  await tick(100);
  assert.ok((resources().FSEventWrap ?? 0) > (before.FSEventWrap ?? 0), 'a watch runs while waiting');
  const started = Date.now();
  ac.abort(reason);
  await assert.rejects(pending, (err) => err === reason);
  assert.ok(Date.now() - started < 100);

  // Aborting while the file is settling.
  const ac2 = new AbortController();
  const settling = f.fetch(ac2.signal, { immediate: true });
  await tick(30);
  ac2.abort(reason);
  await assert.rejects(settling, (err) => err === reason);

  // An already-aborted signal.
  await assert.rejects(f.fetch(AbortSignal.abort(reason)), (err) => err === reason);

  await tick(20);
  const after = resources();
  assert.equal(after.FSEventWrap ?? 0, before.FSEventWrap ?? 0);
  assert.equal(after.Timeout ?? 0, before.Timeout ?? 0);
});

test('maxBytes: a larger file is refused with a coded error, and a file that grows is cut off', async () => {
  const path = join(dir, 'big.js');
  await writeFile(path, Buffer.alloc(4096));
  await assert.rejects(new FileFetcher({ path, maxBytes: 1024 }).fetch(signal()), {
    code: 'ERR_OVERSEER_FETCH_TOO_LARGE',
  });
  const ok = await new FileFetcher({ path, maxBytes: 4096 }).fetch(signal());
  assert.equal((await text(ok)).length, 4096);
});

test('options are validated', () => {
  const bad = optionChecker((o) => new FileFetcher(o));
  bad(undefined, /^FileFetcher: options must be an object/);
  bad({}, /^FileFetcher: options\.path must be a non-empty string/);
  bad({ path: '' }, /options\.path/);
  bad({ path: 'a', interval: 0 }, /options\.interval must be a number of milliseconds/);
  bad({ path: 'a', interval: '1000' }, /options\.interval/);
  bad({ path: 'a', interval: 2 ** 31 }, /options\.interval/);
  bad({ path: 'a', intervall: 5 }, /options\.intervall is not a known option/);
  assert.equal(new FileFetcher({ path: 'a' }).interval, 1000);
});
