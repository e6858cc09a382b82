// Release archives: the safety check on entries, and the whole upgrade through a `current`
// symlink under load, with rollback.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { checkArchive, extractRelease, pruneReleases, releaseLayout } from '../src/upgrade/archive.js';
import { AppProcess } from './support/app.js';
import { describeErrors, startLoad } from './support/load.js';
import { stopAll } from './support/process.js';
import { tarGz } from './support/tarball.js';
import { versionSource } from './support/versioned-app.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-archive-'));
after(async () => {
  await stopAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function archive(name: string, entries: Parameters<typeof tarGz>[0]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, tarGz(entries));
  return file;
}

async function refusesEach(cases: [string, Parameters<typeof tarGz>[0]][]): Promise<void> {
  for (const [name, entries] of cases) {
    await assert.rejects(
      checkArchive(archive(`${name}.tgz`, entries), 1 << 20),
      { code: 'ERR_OVERSEER_ARCHIVE_UNSAFE' },
      name,
    );
  }
}

test('archives with entries that leave the release are refused whole', async () => {
  const cases: [string, Parameters<typeof tarGz>[0]][] = [
    [
      'dot-dot',
      [
        { path: 'ok.js', body: 'x' },
        { path: '../evil.js', body: 'x' },
      ],
    ],
    ['nested dot-dot', [{ path: 'a/../../evil.js', body: 'x' }]],
    ['absolute', [{ path: '/tmp/evil.js', body: 'x' }]],
    ['symlink out', [{ path: 'link', type: 'SymbolicLink', linkpath: '../../etc/passwd' }]],
    ['absolute symlink', [{ path: 'link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]],
    ['hard link out', [{ path: 'hard', type: 'Link', linkpath: '../outside' }]],
    ['fifo', [{ path: 'pipe', type: 'FIFO' }]],
  ];
  await refusesEach(cases);
  await checkArchive(
    archive('fine.tgz', [
      { path: 'app/', type: 'Directory' },
      { path: 'app/server.js', body: 'x' },
      { path: 'app/lib', type: 'SymbolicLink', linkpath: './node_modules/lib' },
    ]),
    1 << 20,
  );
});

test("links are resolved through the archive's other links, in any order, not one by one", async () => {
  const link = (path: string, linkpath: string) => ({ path, type: 'SymbolicLink' as const, linkpath });
  const cases: [string, Parameters<typeof tarGz>[0]][] = [
    // Each looks inside on its own; together they climb out (the chain that was switched in).
    ['chain', [link('s', '.'), link('t', 's/..'), link('u', 't/..')]],
    ['chain, deeper', [link('a/s', '..'), link('a/t', 's/..'), link('x', 'a/t/etc')]],
    // The link it goes through comes later in the archive.
    ['later link', [link('a', 'b/x'), { path: 'b/', type: 'Directory' }, link('b/x', '../..')]],
    ['loop', [link('p', 'q'), link('q', 'p')]],
    // An entry written under a link lands wherever the link points.
    ['entry under a link', [link('d', '.'), { path: 'd/x.js', body: 'x' }]],
    ['a link, then a directory of that name', [link('d', 'e'), { path: 'd/', type: 'Directory' }]],
    // A second name for a relative symlink, read from another directory, points elsewhere.
    [
      'hard link to a symlink',
      [{ path: 'a/', type: 'Directory' }, link('a/s', '../x'), { path: 'h', type: 'Link', linkpath: 'a/s' }],
    ],
    [
      'hard link through a link',
      [link('s', '.'), link('t', 's/..'), { path: 'h', type: 'Link', linkpath: 't/x' }],
    ],
    [
      'a .. inside a path',
      [
        { path: 'a/', type: 'Directory' },
        { path: 'a/../b.js', body: 'x' },
      ],
    ],
  ];
  await refusesEach(cases);
  // Links that resolve inside, through each other, are fine.
  await checkArchive(
    archive('links-inside.tgz', [
      { path: 'lib/', type: 'Directory' },
      { path: 'lib/v1/', type: 'Directory' },
      { path: 'lib/v1/index.js', body: 'x' },
      link('lib/current', 'v1'),
      link('index.js', 'lib/current/index.js'),
      link('here', '.'),
      { path: 'hard.js', type: 'Link', linkpath: 'lib/v1/index.js' },
    ]),
    1 << 20,
  );
});

test('setuid, setgid and sticky bits are dropped on extraction', async () => {
  const dest = path.join(tmp, 'modes');
  await extractRelease(
    archive('modes.tgz', [
      { path: 'suid', body: '#!/bin/sh\n', mode: 0o4777 },
      { path: 'sgid', body: '#!/bin/sh\n', mode: 0o2755 },
      { path: 'dir/', type: 'Directory', mode: 0o1777 },
    ]),
    dest,
  );
  for (const name of ['suid', 'sgid', 'dir']) {
    const mode = fs.statSync(path.join(dest, name)).mode;
    assert.equal(mode & 0o7000, 0, `${name} kept mode ${(mode & 0o7777).toString(8)}`);
  }
  assert.equal(fs.statSync(path.join(dest, 'suid')).mode & 0o111, 0o111 & ~process.umask(), 'x bits stay');
});

test('extraction lands in place, and pruning keeps the newest and the protected', async () => {
  const releases = path.join(tmp, 'prune', 'releases');
  fs.mkdirSync(releases, { recursive: true });
  for (const [i, id] of ['r1', 'r2', 'r3', 'r4', 'r5'].entries()) {
    await extractRelease(archive(`${id}.tgz`, [{ path: 'server.js', body: id }]), path.join(releases, id));
    const t = new Date(Date.now() - (10 - i) * 60_000);
    fs.utimesSync(path.join(releases, id), t, t);
  }
  assert.equal(fs.readFileSync(path.join(releases, 'r3', 'server.js'), 'utf8'), 'r3');
  pruneReleases(releases, 2, [path.join(releases, 'r1')]);
  assert.deepEqual(fs.readdirSync(releases).sort(), ['r1', 'r4', 'r5']);
  assert.throws(() => releaseLayout(path.join(tmp, 'no-symlink', 'app.js')), {
    code: 'ERR_OVERSEER_ARCHIVE_LAYOUT',
  });
});

test('a release archive is switched in under load through `current`, and a broken one rolled back', async () => {
  const root = path.join(tmp, 'srv');
  const incoming = path.join(root, 'incoming', 'app.tar.gz');
  fs.mkdirSync(path.dirname(incoming), { recursive: true });
  const fetcher = `new FileFetcher({ path: ${JSON.stringify(incoming)}, interval: 200 })`;
  // Each release carries its own node_modules; the entry imports from it.
  const release = (version: string, extra: { throwOnStart?: boolean } = {}) =>
    tarGz([
      {
        path: 'node_modules/greeting/package.json',
        body: '{"name":"greeting","type":"module","main":"index.js"}',
      },
      {
        path: 'node_modules/greeting/index.js',
        body: `export default ${JSON.stringify(`from ${version}`)};`,
      },
      {
        path: 'app.mjs',
        body: versionSource({ version, fetcher, ...extra }).replace(
          'const VERSION = ',
          "import greeting from 'greeting';\nconst VERSION = greeting + ' ' + ",
        ),
      },
    ]);
  fs.mkdirSync(path.join(root, 'releases'), { recursive: true });
  const v1 = path.join(tmp, 'v1-full.tgz');
  fs.writeFileSync(v1, release('v1'));
  await extractRelease(v1, path.join(root, 'releases', 'v1'));
  fs.symlinkSync('releases/v1', path.join(root, 'current'));
  const bin = path.join(root, 'current', 'app.mjs');

  const app = new AppProcess({}, { script: bin });
  const port = await app.port();
  await app.nth('ready', 1);
  const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000 });
  const offer = (buf: Buffer): void => {
    fs.writeFileSync(`${incoming}.tmp`, buf);
    fs.renameSync(`${incoming}.tmp`, incoming);
  };
  offer(release('v2'));
  const up = await app.nth('upgrade', 1, 30_000);
  assert.equal(up.result, 'upgraded', JSON.stringify(up));
  const target = fs.readlinkSync(path.join(root, 'current'));
  assert.match(target, /^releases\/[0-9a-f]{16}$/);
  // The new workers run the new release, with its own node_modules.
  const body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
  assert.equal(body, 'from v2 v2');

  offer(release('v3', { throwOnStart: true }));
  const failed = await app.nth('upgrade', 2, 30_000);
  assert.equal(failed.result, 'failed');
  assert.equal(failed.rolledBack, true);
  assert.equal(fs.readlinkSync(path.join(root, 'current')), target, 'current is back on v2');
  const r = await load.stop();
  assert.equal(r.failed, 0, describeErrors(r));
  assert.equal(await fetch(`http://127.0.0.1:${port}/`).then((res) => res.text()), 'from v2 v2');
  // The broken release was not kept, and nothing temporary is left.
  const left = fs.readdirSync(path.join(root, 'releases')).sort();
  assert.deepEqual(left, [path.basename(target), 'v1'].sort());
  assert.deepEqual(
    fs.readdirSync(root).filter((n) => n.includes('.overseer-')),
    [],
  );
});

test('an archive that would extract to more than maxBytes is refused before extraction', async () => {
  const mib = 'z'.repeat(1 << 20);
  // 64 entries of 1 MiB each: a 64 MiB release in a ~70 KB archive.
  const bomb = archive(
    'bomb.tgz',
    Array.from({ length: 64 }, (_, i) => ({ path: `f${i}.bin`, body: mib })),
  );
  const err = await checkArchive(bomb, 3 << 20).then(
    () => assert.fail('an archive past maxBytes was accepted'),
    (e: Error & { code?: string }) => e,
  );
  assert.equal(err.code, 'ERR_OVERSEER_FETCH_TOO_LARGE', err.message);
  assert.match(err.message, /more than maxBytes \(3145728 bytes\)/);
  // Within the bound it passes; links and directories count nothing.
  await checkArchive(bomb, 64 << 20);
});

test('an archive tar cannot read is one coded error, whatever node-tar or zlib called it', async () => {
  const good = tarGz([{ path: 'server.js', body: 'x'.repeat(4096) }]);
  const cases: [string, Buffer][] = [
    ['not gzip', Buffer.from('this is not an archive at all, just text')],
    ['cut short', good.subarray(0, good.length - 20)],
    ['gzip of no tar', gzipSync(Buffer.from('plain text, gzipped'))],
  ];
  for (const [name, bytes] of cases) {
    const file = path.join(tmp, `bad-${name.replace(/ /g, '-')}.tgz`);
    fs.writeFileSync(file, bytes);
    await assert.rejects(checkArchive(file, 1 << 20), { code: 'ERR_OVERSEER_ARCHIVE_BAD' }, name);
  }
});
