// Which addon file to open, when it is plain which one node-gyp-build would pick: then the
// addon is opened with process.dlopen, without loading node-gyp-build (a CommonJS module, its
// package.json and its directory scans: about 2 ms of every worker's and master's start).
// Anything less plain (a Debug build, another name, tagged or several prebuilds, a prebuild
// named by variable) is left to node-gyp-build itself, so the file opened is always the one it
// would open.
import fs from 'node:fs';
import path from 'node:path';

/** The addon's file name, as node-gyp (binding.gyp) and prebuildify (--napi) write it. */
const FILE = 'overseer.node';

/**
 * What node-gyp-build takes first: an addon in build/Release, else in build/Debug (both skipped
 * under PREBUILDS_ONLY); else the best of prebuilds/<platform>-<arch>. Only build/Release's
 * overseer.node, or a prebuild directory holding overseer.node alone (untagged, it matches every
 * runtime and libc), is plain. Undefined otherwise.
 */
export function addonFile(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.OVERSEER_PREBUILD) return undefined; // node-gyp-build's own override: its rules
  if (!env.PREBUILDS_ONLY) {
    const release = path.join(root, 'build', 'Release');
    const built = addonsIn(release);
    if (built.length > 0) return plain(release, built);
    if (addonsIn(path.join(root, 'build', 'Debug')).length > 0) return undefined;
  }
  const prebuilt = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  return plain(prebuilt, addonsIn(prebuilt));
}

/** `dir`'s overseer.node when it is the only addon there (`addons`). */
function plain(dir: string, addons: string[]): string | undefined {
  return addons.length === 1 && addons[0] === FILE ? path.join(dir, FILE) : undefined;
}

/** The .node files in `dir`, none if it is not there. */
function addonsIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).filter((n) => n.endsWith('.node'));
  } catch {
    return [];
  }
}
