// The option table (option-table.ts) as people read it: a flag with its value, a default, and
// `overseer run --help`. scripts/readme-options.mjs writes the README's option tables with
// the same pieces, so the help and the README say the same thing.
import { flagName, OPTIONS, type OptionName, type OptionSpec, optionNames } from '../option-table.js';

const spec = (name: OptionName): OptionSpec => OPTIONS[name];

/** What --help calls a flag's value, by kind, where the flag does not say. */
const VALUE: Partial<Record<OptionSpec['kind'], string>> = {
  duration: 'MS',
  integer: 'N',
  signal: 'SIG',
  restartSignal: 'SIG',
  oneOf: 'MODE',
  tcpAddress: 'ADDR',
  text: 'VALUE',
};

/** The flag as --help shows it: '-w, --workers N', '--reuse-port'; undefined for a field only. */
export function flagUsage(name: OptionName): string | undefined {
  const o = spec(name);
  if (o.flag === undefined) return undefined;
  const flag = o.flag === true ? {} : o.flag;
  const value = o.kind === 'boolean' ? undefined : (flag.value ?? VALUE[o.kind]);
  // A value written with '=' is joined to the flag (--node-args="ARGS"); others follow a space.
  const shownValue = value === undefined ? '' : value.startsWith('=') ? value : ` ${value}`;
  const long = `--${flagName(name)}${shownValue}`;
  return flag.short === undefined ? long : `-${flag.short}, ${long}`;
}

/** What the flag takes beyond the option's values ('`max` is one per CPU'). */
export function flagNote(name: OptionName): string | undefined {
  const flag = spec(name).flag;
  return typeof flag === 'object' ? flag.note : undefined;
}

/**
 * The default in Markdown: as run()'s config writes it (`'SIGUSR2'`, `false`), or as a
 * command line or config file says it (`SIGUSR2`, off). 'none' where there is none, or it is empty.
 */
export function shownDefault(name: OptionName, as: 'config' | 'run'): string {
  const o = spec(name);
  if (o.required) return 'required';
  if (o.defaultDoc !== undefined) return o.defaultDoc;
  const v = o.default;
  if (v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0)) {
    return o.kind === 'boolean' && as === 'run' ? 'off' : 'none';
  }
  if (as === 'run' && v === false) return 'off';
  return typeof v === 'string' && as === 'config' ? `\`'${v}'\`` : `\`${String(v)}\``;
}

const plain = (markdown: string): string => markdown.replaceAll('`', '');

/** `text` cut into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** One entry of --help: the name, then its doc wrapped beside it. */
function entry(name: string, text: string, column: number): string {
  const [first, ...rest] = wrap(text, 80 - column);
  const pad = ' '.repeat(column);
  return [`${`  ${name}`.padEnd(column)}${first}`, ...rest.map((l) => `${pad}${l}`)].join('\n');
}

function helpText(name: OptionName): string {
  const note = flagNote(name);
  const shown = shownDefault(name, 'run');
  const fallback = ['none', 'off'].includes(shown) ? '' : ` (default ${shown})`;
  return plain(`${spec(name).doc}${note === undefined ? '' : `; ${note}`}${fallback}`);
}

/** `overseer run --help`. */
export function runUsage(): string {
  const flags = optionNames('flag');
  const usages = flags.map((f) => {
    const usage = flagUsage(f)!;
    return usage.startsWith('--') ? `    ${usage}` : usage;
  });
  const column = Math.max(...usages.map((u) => u.length)) + 4;
  const fileOnly = optionNames('file').filter((f) => spec(f).flag === undefined);
  const notInFile = flags.filter((f) => spec(f).file === undefined).map((f) => `--${flagName(f)}`);
  return `usage: overseer run [options] <script> [--] [args…]

Runs <script> in workers with hitless restarts: its own server.listen() calls are
served from sockets this process (the master) keeps, and an old worker drains before it
hears --kill-signal. Restart with SIGUSR2 or \`overseer restart\`; stop with SIGTERM
(the master exits 0). <script> is a file, or a package's bin in node_modules/.bin
(\`overseer run next start\`). A -- after the script is not passed to it.

options (each also a field of the config file, in camelCase, but ${notInFile.join(' and ')}):
${flags.map((f, i) => entry(usages[i]!, helpText(f), column)).join('\n')}

fields of the config file only:
${fileOnly.map((f) => entry(f, helpText(f), column)).join('\n')}
`;
}
