#!/usr/bin/env node
// Puts the tables of one `npm run bench` run into the README, so that they all come from
// the same run: node scripts/readme-bench.mjs bench-output.md
// Everything in the README from "## Benchmarks" on is replaced.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/readme-bench.mjs <output of npm run bench>');
  process.exit(2);
}
const out = fs.readFileSync(file, 'utf8');
const tables = out.slice(out.indexOf('## Table 1')).trim();
if (!tables.startsWith('## Table 1')) {
  console.error(`${file} holds no bench tables`);
  process.exit(1);
}
const readme = path.join(root, 'README.md');
const text = fs.readFileSync(readme, 'utf8');
const at = text.indexOf('## Benchmarks');
const intro = fs.readFileSync(path.join(root, 'bench', 'README-intro.md'), 'utf8').trim();
const demoted = tables.replace(/^## /gm, '### ');
fs.writeFileSync(readme, `${text.slice(0, at)}## Benchmarks\n\n${intro}\n\n${demoted}\n`);
console.log(`README.md: benchmark tables from ${file}`);
