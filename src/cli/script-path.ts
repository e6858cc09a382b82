// Where `overseer run`'s script is: a file (relative to `base`), a folder as `node <folder>`
// takes one (its package.json's main, else its index.js), or, for a bare name that is
// no file there, a package's bin, found as `npm exec` finds it: in node_modules/.bin of `base`
// and of each directory above, resolved to the bin's JavaScript entry (the workers run it
// with node). A bin is a symlink to its entry, or, where npm could not link (Windows,
// --no-bin-links), a shim that names it: a shell script and a .cmd file.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { codedError } from '../errors.js';

/** The target a shim names, relative to its directory: `"$basedir/<target>" "$@"`, `"%dp0%\<target>" %*`. */
const SHIM_TARGETS = [/"\$basedir\/([^"]+)"\s+"\$@"/, /"%dp0%\\([^"]+)"\s+%\*/];

/** The absolute path of the script to run; a coded error names what was looked for. */
export function scriptPath(script: string, base: string): string {
  const file = path.resolve(base, script);
  if (fs.existsSync(file)) return fs.statSync(file).isDirectory() ? folderEntry(file) : file;
  const bare = script !== '' && !/[\\/]/.test(script) && script !== '.' && script !== '..';
  if (bare) {
    for (let dir = base; ; dir = path.dirname(dir)) {
      const entry = binEntry(path.join(dir, 'node_modules', '.bin'), script);
      if (entry !== undefined) return entry;
      if (path.dirname(dir) === dir) break;
    }
  }
  const where = bare ? `, and no bin '${script}' in node_modules/.bin here or above` : '';
  throw codedError(Error, 'ERR_OVERSEER_NO_ENTRY', `overseer run: no such script: ${file}${where}`);
}

/** The script `node <dir>` would run: Node's own resolution of a folder (main, then index.js). */
function folderEntry(dir: string): string {
  try {
    return createRequire(path.join(dir, 'package.json')).resolve(dir);
  } catch {
    throw codedError(
      Error,
      'ERR_OVERSEER_NO_ENTRY',
      `overseer run: ${dir} is a folder with no script to run (no package.json main, no index.js)`,
    );
  }
}

/** The JavaScript entry of bin `name` in `binDir`, if it is there. */
function binEntry(binDir: string, name: string): string | undefined {
  for (const bin of [path.join(binDir, name), path.join(binDir, `${name}.cmd`)]) {
    let text: string;
    try {
      if (fs.lstatSync(bin).isSymbolicLink()) return fs.realpathSync(bin);
      text = fs.readFileSync(bin, 'utf8');
    } catch {
      continue; // not there (or a dangling link)
    }
    for (const shim of SHIM_TARGETS) {
      const target = shim.exec(text)?.[1];
      if (target !== undefined) return path.resolve(binDir, target.replaceAll('\\', '/'));
    }
    if (!bin.endsWith('.cmd')) return bin; // the entry itself, copied in
  }
  return undefined;
}
