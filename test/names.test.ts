// A master's name and where its control socket lives, on fakes and the file system alone: the
// name's rule and the check of each way to set it, the default name and app directory from the
// package.json above the entry file, the per-user directory (made 0700; refused when it is a
// symlink, another user's, or writable by others), and which master the CLI means in a folder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type Found, ofDirectory } from '../src/cli/find-master.js';
import { runOptions } from '../src/cli/run-options.js';
import { ClusterPrimary } from '../src/cluster/primary.js';
import { resolveConfig } from '../src/config.js';
import { namesDirs, ownNamesDir } from '../src/control/ipc/posix-names-dir.js';
import { appIdentity } from '../src/master/app-identity.js';
import { nameProblem, toName } from '../src/name.js';
import { fakePlatform } from './support/fake-platform.js';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-names-')));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const posixOnly = process.platform === 'win32' && 'POSIX directories';

test('a name is one safe file-name component; any text is made into one as npm pack does', () => {
  for (const good of ['api', 'a', 'acme-api', 'web.v2', 'A_1', 'x'.repeat(64)]) {
    assert.equal(nameProblem(good), undefined, good);
  }
  for (const bad of ['', '-api', '.hidden', '../etc', 'a/b', 'a b', 'é', 'x'.repeat(65), 'api\n']) {
    assert.match(nameProblem(bad) ?? '', /must be 1 to 64 letters, digits/, JSON.stringify(bad));
  }
  assert.equal(toName('@acme/api'), 'acme-api');
  assert.equal(toName('my app!'), 'my-app-');
  assert.equal(toName('---'), '');
  assert.equal(toName('x'.repeat(100)).length, 64);
});

test('each way to set a name checks it, and names where it was set', async () => {
  const program = () => {};
  assert.equal(resolveConfig({ program, name: 'api' }).name, 'api');
  assert.equal(resolveConfig({ program }).name, undefined, 'the default is made at start');
  assert.throws(
    () => resolveConfig({ program, name: '../api' }),
    (err: Error & { code?: string }) =>
      err.code === 'ERR_OVERSEER_INVALID_CONFIG' &&
      /^overseer: config\.name must be 1 to 64/.test(err.message),
  );
  assert.throws(() => resolveConfig({ program, name: 3 }), /config\.name must be a string/);
  const script = path.join(tmp, 'flag-app.js');
  fs.writeFileSync(script, '');
  const run = await runOptions(['--name', 'web', script]);
  assert.ok(run !== 'help');
  assert.equal(run.engine.name, 'web');
  await assert.rejects(runOptions(['--name', 'a/b', script]), /overseer run: --name must be 1 to 64/);
  assert.throws(
    () => new ClusterPrimary(fakePlatform()).setupPrimary({ name: 'no good', ipcPath: '' }),
    /overseer\/cluster: settings\.name must be 1 to 64/,
  );
});

test("the default name and app directory: the nearest package.json with a name, else the entry's own", () => {
  const app = path.join(tmp, 'shop');
  fs.mkdirSync(path.join(app, 'dist', 'server'), { recursive: true });
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: '@acme/shop' }));
  // A build's package.json without a name (one that sets "type") is passed over.
  fs.writeFileSync(path.join(app, 'dist', 'package.json'), JSON.stringify({ type: 'commonjs' }));
  const entry = path.join(app, 'dist', 'server', 'main.js');
  assert.deepEqual(appIdentity(entry, undefined), { name: 'acme-shop', appDir: app });
  assert.deepEqual(appIdentity(entry, 'front'), { name: 'front', appDir: app }, 'a given name wins');
  // No package.json with a name above it: the script's base name and its directory.
  const loose = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-loose-'));
  try {
    const real = fs.realpathSync(loose);
    const hasNamedParent = (() => {
      for (let d = real; path.dirname(d) !== d; d = path.dirname(d)) {
        try {
          if (JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')).name) return true;
        } catch {}
      }
      return false;
    })();
    if (!hasNamedParent) {
      assert.deepEqual(appIdentity(path.join(loose, 'worker.mjs'), undefined), {
        name: 'worker',
        appDir: real,
      });
    }
  } finally {
    fs.rmSync(loose, { recursive: true, force: true });
  }
  // A symlinked folder is the real one, as the CLI's cwd is.
  const link = path.join(tmp, 'shop-link');
  fs.symlinkSync(app, link);
  assert.equal(appIdentity(path.join(link, 'dist', 'server', 'main.js'), undefined).appDir, app);
});

/** Runs `fn` with XDG_RUNTIME_DIR and TMPDIR set (undefined: unset), then puts them back. */
function withEnv<T>(vars: { XDG_RUNTIME_DIR?: string | undefined; TMPDIR: string }, fn: () => T): T {
  const saved = { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR, TMPDIR: process.env.TMPDIR };
  const set = (k: 'XDG_RUNTIME_DIR' | 'TMPDIR', v: string | undefined) => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  set('XDG_RUNTIME_DIR', vars.XDG_RUNTIME_DIR);
  set('TMPDIR', vars.TMPDIR);
  try {
    return fn();
  } finally {
    set('XDG_RUNTIME_DIR', saved.XDG_RUNTIME_DIR);
    set('TMPDIR', saved.TMPDIR);
  }
}

test('the directory of named sockets: XDG_RUNTIME_DIR/overseer where it exists, else overseer-<uid> in the tmpdir, made 0700', {
  skip: posixOnly,
}, () => {
  const base = fs.mkdtempSync(path.join(tmp, 'dirs-'));
  const runtime = path.join(base, 'run');
  const tmpdir = path.join(base, 'tmp');
  fs.mkdirSync(runtime);
  fs.mkdirSync(tmpdir);
  const inTmp = path.join(tmpdir, `overseer-${process.getuid!()}`);
  withEnv({ XDG_RUNTIME_DIR: runtime, TMPDIR: tmpdir }, () => {
    assert.deepEqual(namesDirs(), [], 'none exists yet: no master of this user runs');
    assert.equal(ownNamesDir(), path.join(runtime, 'overseer'));
    assert.equal(fs.statSync(path.join(runtime, 'overseer')).mode & 0o777, 0o700);
    fs.mkdirSync(inTmp, { mode: 0o700 });
    assert.deepEqual(namesDirs(), [path.join(runtime, 'overseer'), inTmp], 'a client looks in both');
  });
  // A runtime directory that does not exist is no runtime directory.
  withEnv({ XDG_RUNTIME_DIR: path.join(base, 'gone'), TMPDIR: tmpdir }, () => {
    assert.equal(ownNamesDir(), inTmp);
  });
  withEnv({ XDG_RUNTIME_DIR: undefined, TMPDIR: tmpdir }, () => assert.equal(ownNamesDir(), inTmp));
});

test('a directory of named sockets that others could write to is refused with ERR_OVERSEER_IPC_DIR', {
  skip: posixOnly,
}, () => {
  const refused = (dir: string, says: RegExp): void => {
    for (const use of [ownNamesDir, namesDirs] as (() => unknown)[]) {
      assert.throws(
        () => withEnv({ XDG_RUNTIME_DIR: undefined, TMPDIR: dir }, use),
        (err: Error & { code?: string }) => err.code === 'ERR_OVERSEER_IPC_DIR' && says.test(err.message),
        `${use.name} in ${dir}`,
      );
    }
  };
  const uid = process.getuid!();
  const fresh = (): { tmpdir: string; dir: string } => {
    const tmpdir = fs.mkdtempSync(path.join(tmp, 'bad-'));
    return { tmpdir, dir: path.join(tmpdir, `overseer-${uid}`) };
  };
  const writable = fresh();
  fs.mkdirSync(writable.dir);
  fs.chmodSync(writable.dir, 0o777);
  refused(writable.tmpdir, /is writable by others \(mode 777\)/);
  const groupWritable = fresh();
  fs.mkdirSync(groupWritable.dir);
  fs.chmodSync(groupWritable.dir, 0o770);
  refused(groupWritable.tmpdir, /is writable by others \(mode 770\)/);
  const link = fresh();
  fs.mkdirSync(path.join(link.tmpdir, 'elsewhere'), { mode: 0o700 });
  fs.symlinkSync(path.join(link.tmpdir, 'elsewhere'), link.dir);
  refused(link.tmpdir, /is a symlink/);
  const file = fresh();
  fs.writeFileSync(file.dir, '');
  refused(file.tmpdir, /is not a directory/);
  if (uid === 0) {
    const others = fresh();
    fs.mkdirSync(others.dir, { mode: 0o700 });
    fs.chownSync(others.dir, 4242, 4242);
    refused(others.tmpdir, /belongs to uid 4242, not 0/);
  }
});

test('in a folder, the CLI means the master whose app directory holds it, the deepest first', () => {
  const m = (name: string, appDir: string): Found => ({ socket: `/s/${name}`, status: { name, appDir } });
  const api = m('api', '/srv/api');
  const admin = m('admin', '/srv/api/admin');
  const web = m('web', '/srv/web');
  const worker = m('worker', '/srv/web');
  const all = [api, admin, web, worker];
  assert.deepEqual(ofDirectory(all, '/srv/api'), [api]);
  assert.deepEqual(ofDirectory(all, '/srv/api/src/routes'), [api]);
  assert.deepEqual(ofDirectory(all, '/srv/api/admin/x'), [admin], 'an app inside another app');
  assert.deepEqual(ofDirectory(all, '/srv/web'), [web, worker], 'two apps of one folder: ask');
  assert.deepEqual(ofDirectory(all, '/srv'), []);
  assert.deepEqual(ofDirectory(all, '/srv/api-old'), [], 'a sibling with a common prefix is not inside');
  assert.deepEqual(ofDirectory([m('old', '')], '/'), [], 'a master of an earlier version has no appDir');
});
