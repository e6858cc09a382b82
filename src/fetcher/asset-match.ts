// Choosing a GitHub release asset. The default matcher reads the platform and the
// architecture from the asset's name, in the spellings release tools use (Go's GOOS/GOARCH,
// Rust's target triples, Node's own), so one release can serve every machine.
import type { GitHubAsset } from './github-types.js';

/** An asset name to match exactly, a RegExp to test names with, or a predicate. */
export type AssetSelector = string | RegExp | ((asset: GitHubAsset) => boolean);

const PLATFORMS: Record<string, readonly string[]> = {
  linux: ['linux'],
  darwin: ['darwin', 'macos', 'mac', 'osx'],
  win32: ['win32', 'win64', 'win', 'windows'],
  freebsd: ['freebsd'],
  openbsd: ['openbsd'],
  netbsd: ['netbsd'],
  sunos: ['sunos', 'solaris', 'illumos'],
  aix: ['aix'],
  android: ['android'],
};

const ARCHES: Record<string, readonly string[]> = {
  x64: ['x64', 'amd64'],
  arm64: ['arm64', 'aarch64'],
  ia32: ['ia32', 'x86', 'i386', 'i686', '386'],
  arm: ['arm', 'armv7', 'armv7l', 'armhf', 'armv6', 'armv6l'],
  ppc64: ['ppc64', 'ppc64le'],
  s390x: ['s390x'],
  riscv64: ['riscv64'],
  loong64: ['loong64', 'loongarch64'],
};

/** macOS builds that run on every Mac. */
const UNIVERSAL = ['universal', 'universal2'];

/** Files a release carries beside the program: checksums, signatures, notes, other packagings. */
const NOT_A_PROGRAM =
  /(\.(sha256|sha512|sha1|md5|sig|asc|pem|pub|minisig|sbom|spdx|txt|md|json|yml|yaml|zip|7z|xz|bz2|zst|tar|deb|rpm|apk|dmg|pkg|msi|appimage|snap|flatpak))$|^(sha\d*sums|checksums)|sums$/i;

/** A name as lower-case text in which `x86_64` / `x86-64` read as `x64`, not as `x86` and `64`. */
function normalise(name: string): string {
  return name.toLowerCase().replace(/x86[-_]64/g, 'x64');
}

/** True if `word` appears in `name` between non-alphanumerics: `win` is in `app-win.exe`, not in `darwin`. */
function mentions(name: string, words: readonly string[]): boolean {
  return words.some((w) => new RegExp(`(^|[^a-z0-9])${w}([^a-z0-9]|$)`).test(name));
}

const ALL_PLATFORMS = Object.values(PLATFORMS).flat();
const ALL_ARCHES = [...Object.values(ARCHES).flat(), ...UNIVERSAL];

/** 0: release archive, 1: gzipped file, 2: plain file. */
function kindRank(name: string): number {
  if (name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 0;
  if (name.endsWith('.gz')) return 1;
  return 2;
}

/**
 * The default choice for this machine, or undefined. Candidates are the assets that are not
 * checksums, signatures or unsupported packagings (.zip, .xz, .deb, …), in three tiers,
 * the first non-empty tier winning:
 *   1. the name names this platform and this architecture (or `universal` on macOS);
 *   2. it names this platform and no architecture;
 *   3. it names no platform and no architecture (a portable JS bundle; `.exe` only on Windows).
 * Within a tier: a .tar.gz/.tgz archive, then a .gz, then a plain file; then release order.
 */
export function pickDefaultAsset(
  assets: readonly GitHubAsset[],
  platform: string = process.platform,
  arch: string = process.arch,
): GitHubAsset | undefined {
  const platformWords = PLATFORMS[platform] ?? [platform];
  const archWords = [...(ARCHES[arch] ?? [arch]), ...(platform === 'darwin' ? UNIVERSAL : [])];
  let best: { asset: GitHubAsset; rank: number } | undefined;
  for (const asset of assets) {
    const name = normalise(asset.name);
    if (NOT_A_PROGRAM.test(name)) continue;
    const ownPlatform = mentions(name, platformWords);
    const anyPlatform = ownPlatform || mentions(name, ALL_PLATFORMS);
    const ownArch = mentions(name, archWords);
    const anyArch = ownArch || mentions(name, ALL_ARCHES);
    let tier: number;
    if (ownPlatform && ownArch) tier = 0;
    else if (ownPlatform && !anyArch) tier = 1;
    else if (!anyPlatform && !anyArch && (platform === 'win32' || !name.endsWith('.exe'))) tier = 2;
    else continue;
    const rank = tier * 3 + kindRank(name);
    if (best === undefined || rank < best.rank) best = { asset, rank };
  }
  return best?.asset;
}

/** The first asset the selector accepts (release order); the default matcher when it is undefined. */
export function pickAsset(
  assets: readonly GitHubAsset[],
  selector: AssetSelector | undefined,
): GitHubAsset | undefined {
  if (selector === undefined) return pickDefaultAsset(assets);
  return assets.find((a) => matches(selector, a));
}

export function matches(selector: AssetSelector, asset: GitHubAsset): boolean {
  if (typeof selector === 'string') return asset.name === selector;
  if (selector instanceof RegExp) {
    selector.lastIndex = 0; // a /g or /y RegExp keeps state between tests
    return selector.test(asset.name);
  }
  return selector(asset) === true;
}
