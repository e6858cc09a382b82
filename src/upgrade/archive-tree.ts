// The tree an archive would extract to, checked as a whole before anything is written. A
// lexical check of each link alone is not enough: `s -> .`, `t -> s/..`, `u -> t/..` each
// look inside, yet t resolves to the release's parent. So every link, and every entry's own
// path, is resolved through all the archive's links (in any order, as extraction could see
// them), and anything that resolves outside the release refuses the whole archive.
import path from 'node:path';

/** Deeper than this, a chain of links is a loop (Linux's ELOOP limit). */
const MAX_LINK_DEPTH = 40;

export type TreeProblem = { entry: string; why: string };

interface Entry {
  type: string;
  linkpath: string;
}

export class ArchiveTree {
  /** Archive-relative, normalised paths (no leading './', no trailing '/'). */
  private readonly entries = new Map<string, Entry>();

  /** Records an entry; returns a problem for one that cannot even be placed. */
  add(rawPath: string, type: string, linkpath: string): TreeProblem | undefined {
    const p = normalise(rawPath);
    if (p === undefined) return { entry: rawPath, why: 'has an absolute path or leaves the directory' };
    const before = this.entries.get(p);
    if (before && (before.type === 'SymbolicLink' || type === 'SymbolicLink') && before.type !== type) {
      return { entry: rawPath, why: 'appears twice, once as a symbolic link' };
    }
    if (type === 'SymbolicLink' && (path.posix.isAbsolute(linkpath) || /^[a-zA-Z]:|\\/.test(linkpath))) {
      return { entry: rawPath, why: `is a link with an absolute target (${linkpath})` };
    }
    if (p !== '') this.entries.set(p, { type, linkpath });
    return undefined;
  }

  /** Resolves everything once all entries are known; the first problem found, if any. */
  check(): TreeProblem | undefined {
    for (const [p, e] of this.entries) {
      // Extraction never writes through a link: an entry below one would land elsewhere.
      const parent = this.resolve(dirnameOf(p), 0);
      if (parent === undefined || parent !== dirnameOf(p)) {
        return { entry: p, why: 'lies under a symbolic link, or its directory resolves outside the release' };
      }
      if (e.type === 'SymbolicLink') {
        const target = this.resolve(join(dirnameOf(p), e.linkpath), 0);
        if (target === undefined) {
          return { entry: p, why: `is a link that resolves outside the release (${e.linkpath})` };
        }
      } else if (e.type === 'Link') {
        // A hard link's target is a path from the archive's root. link() follows the links
        // in its directories but not a final one, which would give a second name to a
        // relative symlink, now read from another directory.
        const dir = this.resolve(dirnameOf(e.linkpath), 0);
        const last = path.posix.basename(e.linkpath);
        const target = dir === undefined || last === '..' ? undefined : this.resolve(join(dir, last), 0);
        if (target === undefined || this.entries.get(join(dir!, last))?.type === 'SymbolicLink') {
          return { entry: p, why: `is a hard link to ${e.linkpath}, outside the release or a symbolic link` };
        }
      }
    }
    return undefined;
  }

  /**
   * The real path of `p` inside the release ('' is its root), following the archive's own
   * links at every step; undefined when it leaves the release or loops.
   */
  private resolve(p: string, depth: number): string | undefined {
    if (depth > MAX_LINK_DEPTH) return undefined;
    const real: string[] = [];
    for (const part of p.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (real.length === 0) return undefined;
        real.pop();
        continue;
      }
      const here = [...real, part].join('/');
      const link = this.entries.get(here);
      if (link?.type !== 'SymbolicLink') {
        real.push(part);
        continue;
      }
      const through = this.resolve(join(real.join('/'), link.linkpath), depth + 1);
      if (through === undefined) return undefined;
      real.splice(0, real.length, ...(through === '' ? [] : through.split('/')));
    }
    return real.join('/');
  }
}

/**
 * './a//b/' → 'a/b'; undefined for an absolute path or any '..' (which tar tools never
 * write, and whose meaning depends on the links before it).
 */
function normalise(p: string): string | undefined {
  if (p.startsWith('/') || /^[a-zA-Z]:/.test(p) || p.includes('\\')) return undefined;
  if (p.split('/').includes('..')) return undefined;
  const n = path.posix.normalize(p).replace(/\/+$/, '');
  return n === '.' ? '' : n;
}

function dirnameOf(p: string): string {
  const d = path.posix.dirname(p);
  return d === '.' ? '' : d;
}

function join(dir: string, rel: string): string {
  return dir === '' ? rel : `${dir}/${rel}`;
}
