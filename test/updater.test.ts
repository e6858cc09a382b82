// The fetch loop on its own: single-flight, a trigger that cuts short a waiting fetcher,
// minFetchInterval, and the coded errors outside overseer.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import type { FetchOptions } from '../src/fetcher/fetcher.js';
import { HTTPFetcher } from '../src/fetcher/index.js';
import { reexec, restart, triggerUpdate } from '../src/index.js';
import { type UpdaterHost, Upgrader } from '../src/upgrade/upgrader.js';
import { startServer } from './support/fetcher-server.js';
import { tarGz } from './support/tarball.js';
import { fakeUpdaterHost, UPDATER_OPTIONS } from './support/updater.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-updater-'));
const bin = path.join(dir, 'app.mjs');
fs.writeFileSync(bin, 'console.log("v1")');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const host = (): UpdaterHost => fakeUpdaterHost(bin);
const options = UPDATER_OPTIONS;

test('triggers during a fetch join it: one fetch, one answer', async () => {
  let calls = 0;
  const updater = new Upgrader(
    {
      fetch: async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 200));
        return null;
      },
    },
    options,
    host(),
  );
  const answers = await Promise.all([updater.trigger(), updater.trigger(), updater.trigger()]);
  assert.equal(calls, 1);
  assert.deepEqual(answers, [{ result: 'no-update' }, { result: 'no-update' }, { result: 'no-update' }]);
  updater.stop();
});

test('a trigger cuts short a fetcher that is only waiting for its interval', async () => {
  const seen: FetchOptions[] = [];
  const updater = new Upgrader(
    {
      fetch: (signal, opts = {}) => {
        seen.push(opts);
        if (opts.immediate) return Promise.resolve(null);
        // A long interval: waits until aborted.
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
    },
    options,
    host(),
  );
  updater.start();
  await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  assert.deepEqual(await updater.trigger(), { result: 'no-update' });
  assert.ok(Date.now() - t0 < 1_000);
  assert.deepEqual(seen.slice(0, 2), [{ immediate: false }, { immediate: true }]);
  updater.stop();
});

test('minFetchInterval holds between cycles, triggered ones too', async () => {
  const starts: number[] = [];
  const updater = new Upgrader(
    {
      fetch: async () => {
        starts.push(Date.now());
        return null;
      },
    },
    { ...options, minFetchInterval: 300 },
    host(),
  );
  await updater.trigger();
  await updater.trigger();
  assert.equal(starts.length, 2);
  assert.ok(starts[1]! - starts[0]! >= 290, `${starts[1]! - starts[0]!} ms apart`);
  updater.stop();
});

test('the running version offered again is no update, and is committed', async () => {
  let committed = 0;
  const updater = new Upgrader(
    {
      fetch: async () => ({
        stream: fs.createReadStream(bin),
        commit: () => {
          committed++;
        },
      }),
    },
    options,
    host(),
  );
  assert.deepEqual(await updater.trigger(), { result: 'no-update' });
  assert.equal(committed, 1);
  assert.deepEqual(fs.readdirSync(dir), ['app.mjs']);
  updater.stop();
});

test('outside overseer, triggerUpdate() rejects and restart() throws, with a code', async () => {
  await assert.rejects(triggerUpdate(), { code: 'ERR_OVERSEER_NOT_RUNNING' });
  assert.throws(() => restart(), { code: 'ERR_OVERSEER_NOT_RUNNING' });
});

test("reexec(command): a command that is not a program's path and its arguments is refused first, coded", async () => {
  for (const command of [[], [5], [''], 'node server.js', ['node', 1]])
    await assert.rejects(reexec(command as never), {
      code: 'ERR_INVALID_ARG_TYPE',
      message: /^overseer: reexec\(command\): command must be an array of strings, the program's path first/,
    });
  await assert.rejects(reexec(), { code: 'ERR_OVERSEER_NOT_RUNNING' });
});

test('a download past maxBytes stops there: failed, and nothing is left staged', async () => {
  const srv = await startServer((_req, res) => {
    res.writeHead(200); // chunked: no Content-Length to refuse it by
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    const more = (): void => {
      while (sent < 64 && res.write(chunk)) sent++;
      if (sent < 64) res.once('drain', more);
      else res.end();
    };
    more();
  });
  try {
    const updater = new Upgrader(
      new HTTPFetcher({ url: `${srv.url}/app.mjs`, maxBytes: 1 << 20 }),
      options,
      host(),
    );
    const r = await updater.trigger();
    updater.stop();
    assert.equal(r.result, 'failed');
    assert.equal((r as { code?: string }).code, 'ERR_OVERSEER_FETCH_TOO_LARGE', JSON.stringify(r));
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.includes('.overseer-')),
      [],
    );
  } finally {
    await srv.close();
  }
});

test("a release archive that would extract past the fetcher's maxBytes is refused, and nothing is extracted", async () => {
  const root = path.join(dir, 'bomb');
  fs.mkdirSync(path.join(root, 'releases', 'v1'), { recursive: true });
  fs.writeFileSync(path.join(root, 'releases', 'v1', 'app.mjs'), 'console.log("v1")');
  fs.symlinkSync('releases/v1', path.join(root, 'current'));
  // 64 MiB of files in an archive of some 70 KB: well within maxBytes as downloaded.
  const mib = 'z'.repeat(1 << 20);
  const bomb = tarGz([
    { path: 'app.mjs', body: 'console.log("v2")' },
    ...Array.from({ length: 64 }, (_, i) => ({ path: `pad${i}.bin`, body: mib })),
  ]);
  const srv = await startServer((_req, res) => res.end(bomb));
  try {
    const updater = new Upgrader(
      new HTTPFetcher({ url: `${srv.url}/app.tar.gz`, maxBytes: 4 << 20, checkHeaders: [] }),
      options,
      fakeUpdaterHost(path.join(root, 'current', 'app.mjs')),
    );
    const r = await updater.trigger();
    updater.stop();
    assert.equal(r.result, 'failed', JSON.stringify(r));
    assert.equal((r as { code?: string }).code, 'ERR_OVERSEER_FETCH_TOO_LARGE', JSON.stringify(r));
    assert.deepEqual(fs.readdirSync(path.join(root, 'releases')), ['v1']);
  } finally {
    await srv.close();
  }
});

test('staging files a master that is gone left (a SIGKILL mid-download) are removed as the next one starts fetching', async () => {
  const root = path.join(dir, 'stale');
  const releases = path.join(root, 'releases');
  fs.mkdirSync(path.join(releases, 'v1'), { recursive: true });
  fs.writeFileSync(path.join(releases, 'v1', 'app.mjs'), 'console.log("v1")');
  fs.symlinkSync('releases/v1', path.join(root, 'current'));
  const gone = 2 ** 22 + 1; // past Linux's largest pid_max, and odd (Windows' pids are multiples of 4)
  const alive = process.ppid; // the test runner: a master still staging
  const left = [
    path.join(releases, 'v1', `.app.overseer-new-${gone}-0badf00d.mjs`),
    path.join(releases, `.release.tar.overseer-new-${gone}-0badf00d.gz`),
    path.join(releases, `0123456789abcdef.overseer-tmp-${gone}-0badf00d`),
  ];
  const kept = [
    path.join(releases, 'v1', `.app.overseer-new-${alive}-0badf00d.mjs`),
    path.join(releases, `fedcba9876543210.overseer-tmp-${alive}-0badf00d`),
  ];
  // Written a minute ago: its pid may be another container's master, still staging.
  const recent = path.join(releases, 'v1', `.app.overseer-new-${gone}-0badbeef.mjs`);
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const f of [...left, ...kept, recent]) {
    if (f.includes('overseer-tmp')) fs.mkdirSync(path.join(f, 'node_modules'), { recursive: true });
    else fs.writeFileSync(f, 'half a download');
    if (f !== recent) fs.utimesSync(f, hourAgo, hourAgo);
  }
  kept.push(recent);
  let fetched!: () => void;
  const firstFetch = new Promise<void>((resolve) => {
    fetched = resolve;
  });
  const updater = new Upgrader(
    {
      fetch: async () => {
        fetched();
        return null;
      },
    },
    options,
    fakeUpdaterHost(path.join(root, 'current', 'app.mjs')),
  );
  updater.start();
  await firstFetch;
  updater.stop();
  for (const f of left) assert.equal(fs.existsSync(f), false, `${path.basename(f)} was left`);
  for (const f of kept)
    assert.equal(fs.existsSync(f), true, `${path.basename(f)} of a live master was removed`);
});

test('a known-bad version is reported once: a fetcher with validators stops offering it, one without is refused quietly', async () => {
  const bad = 'console.log("bad")';
  const badHash = createHash('sha256').update(bad).digest('hex');
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-length': String(bad.length), etag: '"bad"' });
    res.end(req.method === 'HEAD' ? undefined : bad);
  });
  try {
    const reported: unknown[] = [];
    const withValidators = new Upgrader(
      new HTTPFetcher({ url: `${srv.url}/app.mjs` }),
      options,
      fakeUpdaterHost(bin, { onUpgrade: (e) => reported.push(e) }),
    );
    withValidators.rememberBad([badHash]);
    const first = await withValidators.trigger();
    assert.equal((first as { code?: string }).code, 'ERR_OVERSEER_KNOWN_BAD', JSON.stringify(first));
    const gets = srv.requests.filter((r) => r.method === 'GET').length;
    assert.deepEqual(await withValidators.trigger(), { result: 'no-update' });
    assert.equal(srv.requests.filter((r) => r.method === 'GET').length, gets, 'downloaded again');
    withValidators.stop();
    assert.equal(reported.length, 1);

    reported.length = 0;
    const noValidators = new Upgrader(
      { fetch: async () => Readable.from([Buffer.from(bad)]) },
      options,
      fakeUpdaterHost(bin, { onUpgrade: (e) => reported.push(e) }),
    );
    noValidators.rememberBad([badHash]);
    for (let i = 0; i < 3; i++) {
      const r = await noValidators.trigger();
      assert.equal((r as { code?: string }).code, 'ERR_OVERSEER_KNOWN_BAD', JSON.stringify(r));
    }
    noValidators.stop();
    assert.equal(reported.length, 1, 'each refusal of the same known-bad version was reported');
  } finally {
    await srv.close();
  }
});
