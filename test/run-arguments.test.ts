// `overseer run`'s arguments as a user types them: `--` before the app's own arguments, and
// the script: a file, or a bin in node_modules/.bin (here or above) resolved to its
// JavaScript entry, whether npm linked it (a symlink) or wrote shims (Windows,
// --no-bin-links: a shell script and a .cmd file). Files only, no process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { splitRunArgs } from '../src/cli/run-options.js';
import { scriptPath } from '../src/cli/script-path.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-script-path-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A project with package `pkg` whose bin is `bin/cli.js`; `link` says how npm put it in .bin. */
function project(link: 'symlink' | 'sh' | 'cmd' | 'copy'): { root: string; entry: string } {
  const root = fs.mkdtempSync(path.join(tmp, `${link}-`));
  const entry = path.join(root, 'node_modules', 'pkg', 'bin', 'cli.js');
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  fs.writeFileSync(entry, '#!/usr/bin/env node\n');
  const bin = path.join(root, 'node_modules', '.bin');
  fs.mkdirSync(bin);
  if (link === 'symlink') fs.symlinkSync('../pkg/bin/cli.js', path.join(bin, 'pkg'));
  if (link === 'copy') fs.copyFileSync(entry, path.join(bin, 'pkg'));
  // cmd-shim's two shims, as npm writes them.
  if (link === 'sh') {
    fs.writeFileSync(
      path.join(bin, 'pkg'),
      [
        '#!/bin/sh',
        'basedir=$(dirname "$(echo "$0" | sed -e \'s,\\\\,/,g\')")',
        'if [ -x "$basedir/node" ]; then',
        '  exec "$basedir/node"  "$basedir/../pkg/bin/cli.js" "$@"',
        'else ',
        '  exec node  "$basedir/../pkg/bin/cli.js" "$@"',
        'fi',
      ].join('\n'),
    );
  }
  if (link === 'cmd') {
    fs.writeFileSync(
      path.join(bin, 'pkg.cmd'),
      [
        '@ECHO off',
        'GOTO start',
        ':find_dp0',
        'SET dp0=%~dp0',
        'EXIT /b',
        ':start',
        'SETLOCAL',
        'CALL :find_dp0',
        'IF EXIST "%dp0%\\node.exe" (',
        '  SET "_prog=%dp0%\\node.exe"',
        ') ELSE (',
        '  SET "_prog=node"',
        '  SET PATHEXT=%PATHEXT:;.JS;=;%',
        ')',
        'endLocal & goto #_undefined_# 2>NUL || title %COMSPEC% & "%_prog%"  "%dp0%\\..\\pkg\\bin\\cli.js" %*',
      ].join('\r\n'),
    );
  }
  return { root, entry };
}

test('a file, relative to the base, wins over a bin of the same name', () => {
  const { root } = project('symlink');
  fs.writeFileSync(path.join(root, 'pkg'), '');
  assert.equal(scriptPath('pkg', root), path.join(root, 'pkg'));
});

for (const link of ['symlink', 'sh', 'cmd', 'copy'] as const) {
  test(`a bin installed as a ${link}, from a folder below the project: its JS entry`, () => {
    const { root, entry } = project(link);
    const below = path.join(root, 'src', 'deep');
    fs.mkdirSync(below, { recursive: true });
    const expected = link === 'copy' ? path.join(root, 'node_modules', '.bin', 'pkg') : entry;
    assert.equal(fs.realpathSync(scriptPath('pkg', below)), fs.realpathSync(expected));
  });
}

test('nothing there: ERR_OVERSEER_NO_ENTRY, saying what was looked for', () => {
  const { root } = project('symlink');
  assert.throws(() => scriptPath('nope', root), {
    code: 'ERR_OVERSEER_NO_ENTRY',
    message: `overseer run: no such script: ${path.join(root, 'nope')}, and no bin 'nope' in node_modules/.bin here or above`,
  });
  // A path is a path: no bin lookup for it.
  assert.throws(() => scriptPath('./pkg', root), {
    message: `overseer run: no such script: ${path.join(root, 'pkg')}`,
  });
});

test('a folder runs as `node <folder>` runs it: its package.json main, else its index.js', () => {
  const plain = fs.mkdtempSync(path.join(tmp, 'folder-'));
  fs.writeFileSync(path.join(plain, 'index.js'), '');
  assert.equal(scriptPath('.', plain), path.join(plain, 'index.js'));
  // (Another folder: Node keeps what it read of a package.json for the life of the process.)
  const app = fs.mkdtempSync(path.join(tmp, 'folder-'));
  fs.writeFileSync(path.join(app, 'index.js'), '');
  fs.mkdirSync(path.join(app, 'lib'));
  fs.writeFileSync(path.join(app, 'lib', 'server.js'), '');
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ main: 'lib/server.js' }));
  assert.equal(scriptPath(path.basename(app), tmp), path.join(app, 'lib', 'server.js'));
  // Neither: a coded error that says so, not EISDIR from reading a folder.
  const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
  assert.throws(() => scriptPath(empty, tmp), {
    code: 'ERR_OVERSEER_NO_ENTRY',
    message: `overseer run: ${empty} is a folder with no script to run (no package.json main, no index.js)`,
  });
});

test("`--` ends overseer's options, before the script or right after it; a second one is the app's", () => {
  assert.deepEqual(splitRunArgs(['-w', '2', 'next', '--', 'start', '-p', '3000']), {
    options: ['-w', '2'],
    rest: ['next', 'start', '-p', '3000'],
  });
  assert.deepEqual(splitRunArgs(['-w', '2', '--', 'next', 'start']), {
    options: ['-w', '2'],
    rest: ['next', 'start'],
  });
  assert.deepEqual(splitRunArgs(['--', 'app.js', '--', '--', '-x']).rest, ['app.js', '--', '-x']);
  assert.deepEqual(splitRunArgs(['app.js', '-w', '--', 'x']).rest, ['app.js', '-w', '--', 'x']);
});
