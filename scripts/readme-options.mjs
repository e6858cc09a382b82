#!/usr/bin/env node
// Writes the README's two option tables (run()'s config, and `overseer run`'s flags and config
// file) from the option table (src/option-table.ts, as compiled to dist/), so they never drift:
// node scripts/readme-options.mjs (after npm run compile); with --check, fails instead when the
// README differs (test/options.test.ts).
import path from 'node:path';
import { markdownTable, replaceTable, root, updateReadme } from './readme-tables.mjs';

const dist = (file) => import(path.join(root, 'dist', 'src', file));
const { OPTIONS, optionNames } = await dist('option-table.js');
const { flagNote, flagUsage, shownDefault } = await dist('cli/option-docs.js');
const code = (text) => `\`${text}\``;

const runTable = markdownTable(
  ['option', 'default', 'what it does'],
  optionNames('config').map((name) => {
    const o = OPTIONS[name];
    return [
      code(o.params === undefined ? name : `${name}(${o.params})`),
      shownDefault(name, 'config'),
      o.doc,
    ];
  }),
);

const cliTable = markdownTable(
  ['option', 'config file field', 'default', 'what it does'],
  Object.keys(OPTIONS)
    .filter((name) => OPTIONS[name].flag !== undefined || OPTIONS[name].file !== undefined)
    .map((name) => {
      const usage = flagUsage(name);
      const note = flagNote(name);
      return [
        usage === undefined ? '(none)' : code(usage),
        OPTIONS[name].file === undefined ? '(none)' : code(name),
        shownDefault(name, 'run'),
        note === undefined ? OPTIONS[name].doc : `${OPTIONS[name].doc}; ${note}`,
      ];
    }),
);

updateReadme('option tables', (readme) =>
  replaceTable(
    replaceTable(readme, /^\| option +\| default +\| what it does +\|$/m, runTable),
    /^\| option +\| config file field +\| default +\| what it does +\|$/m,
    cliTable,
  ),
);
