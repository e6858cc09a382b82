// Where overseer's own package.json is: the nearest directory above this file whose
// package.json names overseer. Looked up rather than assumed, so it holds wherever this
// module runs from: dist/src/…, or src/… itself under a TypeScript loader (tsx).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'overseer') {
        root = dir;
        return dir;
      }
    } catch {}
    if (path.dirname(dir) === dir) throw new Error(`overseer: no package.json of overseer above ${here}`);
  }
}
