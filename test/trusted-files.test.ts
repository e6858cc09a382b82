// `overseer run` trusts a config file or an env file only if no one but the master's user (or
// root) could have written it, as ssh's StrictModes asks (issue #20, row 9): a config file
// another user planted beside a root-owned script in /tmp is refused, and its code never runs.
// Owners other than our own can only be made by root: those cases need root, and POSIX.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runOptions } from '../src/cli/run-options.js';
import { readEnvFile } from '../src/master/app-workers.js';
import { platform } from '../src/os/index.js';
import { CLI, fixture, readableByAll } from './support/paths.js';

const NOBODY = 65534;
const asRoot = process.platform !== 'win32' && process.getuid?.() === 0;
const skip = asRoot ? false : 'needs root on POSIX (files owned by another user)';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory in os.tmpdir() with `mode` (1777: as /tmp itself, where anyone may plant a file). */
function dir(mode: number): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-trust-'));
  fs.chmodSync(d, mode);
  dirs.push(d);
  return d;
}

/** Writes `file` with `text`, then gives it `mode` and owner `uid`. */
function plant(file: string, text: string, uid = 0, mode = 0o644): string {
  fs.writeFileSync(file, text);
  fs.chmodSync(file, mode);
  fs.chownSync(file, uid, uid);
  return file;
}

/** `overseer run <args>` in `cwd`, as root or as `uid`. */
function cli(args: string[], cwd: string, uid?: number) {
  const as = uid === undefined ? {} : { uid, gid: uid };
  return spawnSync(process.execPath, [CLI, 'run', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 20_000,
    ...as,
  });
}

describe('a config file another user planted', { skip }, () => {
  test('beside a root-owned script in a sticky world-writable directory: refused, its code never runs', () => {
    const d = dir(0o1777);
    fs.copyFileSync(fixture('run/app.cjs'), path.join(d, 'app.cjs')); // root's script
    const marker = path.join(d, 'ran');
    plant(
      path.join(d, 'overseer.config.js'),
      `import fs from 'node:fs';\nfs.writeFileSync(${JSON.stringify(marker)}, 'ran as uid ' + process.getuid());\nexport default {};\n`,
      NOBODY,
    );
    const r = cli(['app.cjs'], d);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /overseer\.config\.js is refused: .*overseer\.config\.js is owned by uid 65534/);
    assert.equal(fs.existsSync(marker), false, 'the planted config ran in the master');
  });

  test('a JSON config is as dangerous (nodeArgs, env.NODE_OPTIONS, fetchUrl): refused too', async () => {
    const d = dir(0o1777);
    const script = path.join(d, 'app.cjs');
    fs.copyFileSync(fixture('run/app.cjs'), script);
    const config = plant(
      path.join(d, 'overseer.config.json'),
      JSON.stringify({ env: { NODE_OPTIONS: `--require ${path.join(d, 'evil.cjs')}` } }),
      NOBODY,
    );
    await assert.rejects(runOptions([script]), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_OVERSEER_UNTRUSTED_FILE');
      assert.ok(err.message.includes(`${config} is owned by uid 65534`), err.message);
      return true;
    });
  });

  test('an env file of another user is refused when the master reads it', () => {
    const d = dir(0o1777);
    const env = plant(path.join(d, 'app.env'), 'NODE_OPTIONS=--require /tmp/evil.cjs\n', NOBODY);
    assert.throws(() => readEnvFile(env), {
      code: 'ERR_OVERSEER_UNTRUSTED_FILE',
      message: new RegExp(`envFile ${env} is refused: ${env} is owned by uid 65534`),
    });
    // Named in a config file: on Node 20, node itself reads an --env-file flag in its command line
    // before overseer runs (README).
    const config = plant(path.join(d, 'overseer.config.json'), JSON.stringify({ envFile: env }));
    const r = cli(['--config', config, fixture('run/app.cjs')], d);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /is refused: .*app\.env is owned by uid 65534/);
  });
});

describe('modes: writable by someone else, or under a directory someone else can write', { skip }, () => {
  test('judged as ssh StrictModes does: the file, its symlink, and each directory up to /', () => {
    const sticky = dir(0o1777);
    const ours = plant(path.join(sticky, 'ours.json'), '{}');
    assert.equal(platform.untrustedFile(ours), undefined, "root's file in a sticky directory");
    assert.equal(platform.untrustedFile(path.join(sticky, 'missing.json')), undefined, 'the reader says');
    const world = plant(path.join(sticky, 'world.json'), '{}', 0, 0o666);
    assert.match(platform.untrustedFile(world) ?? '', /world\.json is writable by its group and others/);
    const group = plant(path.join(sticky, 'group.json'), '{}', 0, 0o664);
    assert.match(platform.untrustedFile(group) ?? '', /group\.json is writable by its group$/);
    // A directory anyone can write, without the sticky bit: anyone can swap the file.
    const open = dir(0o777);
    const swappable = plant(path.join(open, 'x.json'), '{}');
    assert.equal(platform.untrustedFile(swappable), `directory ${open} is writable by its group and others`);
    // A directory of another user, however its modes.
    const theirs = path.join(sticky, 'theirs');
    fs.mkdirSync(theirs, { mode: 0o755 });
    fs.chownSync(theirs, NOBODY, NOBODY);
    fs.writeFileSync(path.join(theirs, 'x.json'), '{}');
    assert.equal(
      platform.untrustedFile(path.join(theirs, 'x.json')),
      `directory ${theirs} is owned by uid 65534`,
    );
    // A symlink is judged as an entry, and its target as well.
    const link = path.join(sticky, 'link.json');
    fs.symlinkSync(world, link);
    assert.match(platform.untrustedFile(link) ?? '', /world\.json is writable by its group and others/);
    const theirLink = path.join(sticky, 'their-link.json');
    fs.symlinkSync(ours, theirLink);
    fs.lchownSync(theirLink, NOBODY, NOBODY);
    assert.equal(platform.untrustedFile(theirLink), `${theirLink} is owned by uid 65534`);
  });
});

// The master runs as uid 65534 from this checkout, as hostile-worker.test.ts's worker does.
const asNobody = skip || (readableByAll(CLI) ? false : 'the repository is not readable by uid 65534');

describe('the reverse: a master that runs as another user', { skip: asNobody }, () => {
  // The file is read (and trusted) when overseer gets as far as its mistake: a field it does not know.
  const config = JSON.stringify({ wrokers: 2 });

  test("trusts its own files and root's, and refuses a third user's", () => {
    const d = dir(0o1777);
    const script = path.join(d, 'app.cjs');
    fs.copyFileSync(fixture('run/app.cjs'), script);
    fs.chmodSync(script, 0o644);
    for (const [owner, says] of [
      [NOBODY, /overseer\.config\.json: wrokers is not a known option/],
      [0, /overseer\.config\.json: wrokers is not a known option/],
      [NOBODY - 1, /overseer\.config\.json is refused: .* is owned by uid 65533/],
    ] as const) {
      plant(path.join(d, 'overseer.config.json'), config, owner);
      const r = cli(['app.cjs'], d, NOBODY);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, says, `a config owned by uid ${owner}`);
    }
  });
});
