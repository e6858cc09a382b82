#!/usr/bin/env node
// Writes the README's tables of error and warning codes from the registry (src/codes.ts, as
// compiled to dist/), so they never drift: node scripts/readme-codes.mjs (after npm run compile).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { codes, warningCodes, describeCode } = await import(path.join(root, 'dist', 'src', 'codes.js'));
const rows = (o) =>
  Object.keys(o)
    .map((k) => `| \`${k}\` | ${describeCode(k)} |`)
    .join('\n');
const tables = `| error code | meaning |\n|---|---|\n${rows(codes)}\n\n| warning code | meaning |\n|---|---|\n${rows(warningCodes)}\n`;
const readme = path.join(root, 'README.md');
const text = fs.readFileSync(readme, 'utf8');
const start = text.indexOf('| error code | meaning |');
const warnings = text.indexOf('| warning code | meaning |', start);
const end = text.indexOf('\n\n', warnings);
if (start < 0 || warnings < 0 || end < 0) {
  console.error('README.md has no code tables to replace');
  process.exit(1);
}
fs.writeFileSync(readme, `${text.slice(0, start)}${tables}${text.slice(end + 2)}`);
console.log('README.md: code tables written from the registry');
