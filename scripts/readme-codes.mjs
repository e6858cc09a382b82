#!/usr/bin/env node
// Writes the README's tables of error and warning codes from the registry (src/codes.ts, as
// compiled to dist/), so they never drift: node scripts/readme-codes.mjs (after npm run
// compile); with --check, fails instead when the README differs (test/codes.test.ts).
import path from 'node:path';
import { markdownTable, replaceTable, root, updateReadme } from './readme-tables.mjs';

const { codes, warningCodes, describeCode } = await import(path.join(root, 'dist', 'src', 'codes.js'));
const rows = (o) => Object.keys(o).map((k) => [`\`${k}\``, describeCode(k)]);

updateReadme('code tables', (readme) =>
  replaceTable(
    replaceTable(
      readme,
      /^\| error code \| meaning \|$/m,
      markdownTable(['error code', 'meaning'], rows(codes)),
    ),
    /^\| warning code \| meaning \|$/m,
    markdownTable(['warning code', 'meaning'], rows(warningCodes)),
  ),
);
