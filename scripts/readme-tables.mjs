// What the scripts that write the README's generated tables share (readme-codes.mjs,
// readme-options.mjs): replacing a table found by its header row, and writing the README, or
// with --check, failing when it would change (the tests run them so).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A Markdown table: a header row, then one row per entry. */
export function markdownTable(head, rows) {
  const row = (cells) => `| ${cells.join(' | ')} |`;
  return [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n');
}

/** `readme` with the table whose header row matches `header` replaced by `table`. */
export function replaceTable(readme, header, table) {
  const match = header.exec(readme);
  if (match === null) throw new Error(`README.md has no table headed ${header}`);
  const lines = readme.slice(match.index).split('\n');
  const end =
    match.index +
    lines
      .slice(
        0,
        lines.findIndex((l) => !l.startsWith('|')),
      )
      .join('\n').length;
  return `${readme.slice(0, match.index)}${table}${readme.slice(end)}`;
}

/** Writes README.md as `update` makes it; with --check, exits 1 instead when that would change it. */
export function updateReadme(what, update) {
  const file = path.join(root, 'README.md');
  const before = fs.readFileSync(file, 'utf8');
  const after = update(before);
  if (process.argv.includes('--check')) {
    if (after !== before) {
      console.error(
        `README.md: the ${what} differ from the source; run node ${path.relative(root, process.argv[1])}`,
      );
      process.exit(1);
    }
    console.log(`README.md: the ${what} match the source`);
  } else {
    fs.writeFileSync(file, after);
    console.log(`README.md: ${what} written from the source`);
  }
}
