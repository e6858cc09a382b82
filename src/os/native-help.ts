// Why the addon did not load, and what to do about it, in words a user can act on: the
// platform and libc it looked for, and the fix (a glibc-based image on musl; otherwise a
// compiler and `npm rebuild overseer`). Only ever called on the failure path.

/** This process's C library: 'glibc 2.36', 'musl', or undefined where there is none to name. */
function libc(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
      ?.header;
    return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl';
  } catch {
    return undefined;
  }
}

export function explainLoadFailure(err: unknown): string {
  const cause = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  const c = libc();
  const target = `${process.platform}-${process.arch}${c ? ` (${c})` : ''}`;
  const compile = 'install python3, make and g++ (build-essential), then run `npm rebuild overseer`';
  if (c === 'musl') {
    return `no prebuilt addon for ${target}: the prebuilds are for glibc. Use a glibc-based image (node:20-bookworm-slim rather than node:20-alpine), or ${compile} (${cause})`;
  }
  if (/No native build was found/i.test(cause)) {
    return `no prebuilt addon for ${target}, and none compiled at install (npm may not have run install scripts): ${compile}`;
  }
  return `the addon for ${target} did not load: ${cause}; ${compile}`;
}
