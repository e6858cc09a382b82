// Which addon file to open, when it is plain which one node-gyp-build would pick: then the
// addon is opened with process.dlopen, without loading node-gyp-build (a CommonJS module, its
// package.json and its directory scans: a few ms of every worker's start). Anything less plain
// (a Debug build, tagged or several prebuilds, a prebuild named by variable) is left to
// node-gyp-build itself, so the file opened is always the one it would open.
import fs from 'node:fs';
import path from 'node:path';

/** The addon's file name, as node-gyp (binding.gyp) and prebuildify (--napi) write it. */
const FILE = 'overseer.node';

/**
 * build/Release/overseer.node when this machine compiled it (node-gyp-build's first choice,
 * skipped under PREBUILDS_ONLY); else prebuilds/<platform>-<arch>/overseer.node when it is the
 * only addon there (untagged, it matches every runtime and libc). Undefined otherwise.
 */
export function addonFile(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OVERSEER_PREBUILD) return undefined; // node-gyp-build's own override: its rules
  if (!env.PREBUILDS_ONLY) {
    const release = path.join(root, 'build', 'Release', FILE);
    if (fs.existsSync(release)) return release;
    if (fs.existsSync(path.join(root, 'build', 'Debug'))) return undefined;
  }
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.node'));
  } catch {
    return undefined;
  }
  return names.length === 1 && names[0] === FILE ? path.join(dir, FILE) : undefined;
}
