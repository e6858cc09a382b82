#!/usr/bin/env node
// Puts the tables of a bench run into the README: node scripts/readme-bench.mjs <output>
// <output> is what `npm run bench` printed (every table, all from the same run), or part of it:
// `BENCH_ONLY=per-request npm run bench`, or the tables.md of the many-core bench. Each
// "## Table N: ..." of the output replaces the README's "### Table N: ..." of the same N and
// the README's other tables stay, so a many-core run can update Tables 7 to 9 alone. The
// README's "## Benchmarks" section (the last one) is rewritten: bench/README-intro.md, then the
// tables in order.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/readme-bench.mjs <output of npm run bench>');
  process.exit(2);
}

/** The tables of `text` whose headings start with `hashes` "Table ", by their number ("2b"). */
function tables(text, hashes) {
  const heading = new RegExp(`^${hashes} Table (\\w+):`, 'gm');
  const starts = [...text.matchAll(heading)];
  return new Map(
    starts.map((m, i) => [m[1], text.slice(m.index, starts[i + 1]?.index ?? text.length).trim()]),
  );
}

const fresh = tables(fs.readFileSync(file, 'utf8'), '##');
if (fresh.size === 0) {
  console.error(`${file} holds no bench tables`);
  process.exit(1);
}
const readme = path.join(root, 'README.md');
const text = fs.readFileSync(readme, 'utf8');
const at = text.indexOf('## Benchmarks');
const merged = tables(text.slice(at), '###');
for (const [n, t] of fresh) merged.set(n, t.replace(/^## /, '### '));
const order = (n) => Number.parseInt(n, 10) + (/\d$/.test(n) ? 0 : 0.5);
const body = [...merged.keys()]
  .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
  .map((n) => merged.get(n))
  .join('\n\n');
const intro = fs.readFileSync(path.join(root, 'bench', 'README-intro.md'), 'utf8').trim();
fs.writeFileSync(readme, `${text.slice(0, at)}## Benchmarks\n\n${intro}\n\n${body}\n`);
console.log(`README.md: Table ${[...fresh.keys()].join(', ')} from ${file}`);
