// Which app a master runs, as the CLI finds it: its name, and the directory it lives in. The
// app's directory is the nearest directory above its entry file (run()'s program, `overseer
// run`'s script, the cluster facade's `exec`) whose package.json has a name, else the entry
// file's own directory; the default name is that package's name, else the entry file's base
// name. The CLI picks the master whose app directory holds the current directory.
import fs from 'node:fs';
import path from 'node:path';
import { toName } from '../name.js';

export interface AppIdentity {
  name: string;
  /** Absolute, with symlinks resolved, so the CLI can compare it with its own directory. */
  appDir: string;
}

/** `name`: the configured name (already checked), or undefined for the default. */
export function appIdentity(entry: string | undefined, name: string | undefined): AppIdentity {
  if (entry === undefined || entry === '') return { name: name ?? 'node', appDir: real(process.cwd()) };
  const file = path.resolve(entry);
  const pkg = namedPackage(path.dirname(file));
  const byDefault = pkg ? toName(pkg.name) : toName(path.basename(file, path.extname(file)));
  return {
    name: name ?? (byDefault || 'app'),
    appDir: real(pkg?.dir ?? path.dirname(file)),
  };
}

/** The nearest package.json at or above `dir` with a non-empty name. */
function namedPackage(dir: string): { dir: string; name: string } | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { name?: unknown };
      if (typeof pkg.name === 'string' && toName(pkg.name) !== '') return { dir: d, name: pkg.name };
    } catch {}
    if (path.dirname(d) === d) return undefined;
  }
}

function real(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return dir;
  }
}
