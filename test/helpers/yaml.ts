// A strict reader for the YAML that Kubernetes manifests are written in, so a test can read the
// very file a user applies: documents (`---`), block mappings and sequences (a sequence item may
// open a mapping: `- name: x`), plain, single- and double-quoted scalars, comments. Anything
// else (flow collections, block scalars, anchors, tags, tabs) is an error that names its line,
// never a silent misreading. Scalars follow YAML 1.2's core schema for what manifests use:
// integers, true/false, null, and strings.

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  n: number;
  indent: number;
  text: string;
}

class Reader {
  i = 0;
  constructor(
    readonly file: string,
    readonly lines: Line[],
  ) {}

  fail(line: Line | undefined, problem: string): never {
    throw new Error(`${this.file}:${line?.n ?? 'end'}: ${problem}`);
  }

  get line(): Line | undefined {
    return this.lines[this.i];
  }

  /** The block that starts at the current line, all of whose lines are indented `indent`. */
  block(indent: number): YamlValue {
    const l = this.line!;
    if (l.indent !== indent) this.fail(l, `expected indentation ${indent}, got ${l.indent}`);
    return isItem(l.text) ? this.sequence(indent) : this.mapping(indent);
  }

  sequence(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (let l = this.line; l && l.indent === indent && isItem(l.text); l = this.line) {
      const rest = l.text.slice(1).trimStart();
      if (rest === '') {
        this.i++;
        const next = this.line;
        out.push(next && next.indent > indent ? this.block(next.indent) : null);
      } else if (keyOf(rest) !== undefined || isItem(rest)) {
        // `- key: value` opens a mapping (`- - x` a sequence) whose column is the item's text.
        this.lines[this.i] = { n: l.n, indent: indent + l.text.length - rest.length, text: rest };
        out.push(this.block(this.line!.indent));
      } else {
        out.push(this.scalar(l, rest));
        this.i++;
      }
    }
    this.end(indent);
    return out;
  }

  mapping(indent: number): { [key: string]: YamlValue } {
    const out: { [key: string]: YamlValue } = {};
    for (let l = this.line; l && l.indent === indent && !isItem(l.text); l = this.line) {
      const key = keyOf(l.text);
      if (key === undefined) this.fail(l, `expected 'key: value', got '${l.text}'`);
      if (Object.hasOwn(out, key.name)) this.fail(l, `duplicate key '${key.name}'`);
      this.i++;
      if (key.rest !== '') {
        out[key.name] = this.scalar(l, key.rest);
        continue;
      }
      const next = this.line;
      if (next && next.indent > indent) out[key.name] = this.block(next.indent);
      // A sequence may sit at its key's own indentation.
      else if (next && next.indent === indent && isItem(next.text)) out[key.name] = this.sequence(indent);
      else out[key.name] = null;
    }
    this.end(indent);
    return out;
  }

  /** After a block: the next line must belong to an enclosing one. */
  end(indent: number): void {
    const l = this.line;
    if (l && l.indent > indent) this.fail(l, `unexpected indentation ${l.indent}`);
  }

  scalar(line: Line, text: string): YamlValue {
    if (text.startsWith('"')) {
      if (!text.endsWith('"') || text.length < 2) this.fail(line, 'an unterminated double-quoted string');
      try {
        return JSON.parse(text) as string;
      } catch {
        return this.fail(line, `a double-quoted string this reader does not know: ${text}`);
      }
    }
    if (text.startsWith("'")) {
      const m = /^'((?:[^']|'')*)'$/.exec(text);
      if (!m) this.fail(line, 'an unterminated single-quoted string');
      return m[1]!.replaceAll("''", "'");
    }
    if (/^[[{|>&*!%@`]/.test(text)) this.fail(line, `YAML this reader does not read: '${text}'`);
    if (text.includes(': ')) this.fail(line, `a plain scalar with ': ' in it: '${text}'`);
    if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
    if (text === 'true' || text === 'false') return text === 'true';
    if (text === 'null' || text === '~') return null;
    // YAML 1.1's booleans, which Kubernetes' own reader still takes as such: quote them.
    if (/^(y|n|yes|no|on|off)$/i.test(text)) this.fail(line, `an ambiguous boolean (quote it): '${text}'`);
    if (
      /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text) ||
      /^[-+]?\.(inf|nan)$/i.test(text)
    )
      this.fail(line, `a number this reader does not read (quote it if it is a string): '${text}'`);
    return text;
  }
}

const isItem = (text: string): boolean => text === '-' || text.startsWith('- ');

/** `key: rest` or `key:` (a plain or quoted key), or undefined when `text` is not a map entry. */
function keyOf(text: string): { name: string; rest: string } | undefined {
  const m =
    /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#[\]{},:&*!|>%@`-][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+(.*))?$/.exec(
      text,
    );
  if (!m) return undefined;
  const raw = m[1]!;
  const name = raw.startsWith('"')
    ? (JSON.parse(raw) as string)
    : raw.startsWith("'")
      ? raw.slice(1, -1).replaceAll("''", "'")
      : raw;
  return { name, rest: m[2] ?? '' };
}

/** The text of a line without its comment (a `#` at the start or after a space, outside quotes). */
function uncomment(text: string): string {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === '"' && c === '\\') i++;
    else if (quote !== '' && c === quote) quote = '';
    else if (quote === '' && (c === '"' || c === "'") && (i === 0 || /[\s:-]/.test(text[i - 1]!))) quote = c;
    else if (quote === '' && c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i);
  }
  return text;
}

/** Every document of a YAML stream, as plain values. */
export function parseYaml(source: string, file = 'yaml'): YamlValue[] {
  const docs: Line[][] = [[]];
  for (const [index, raw] of source.split('\n').entries()) {
    const n = index + 1;
    const indentation = /^[ \t]*/.exec(raw)![0];
    if (indentation.includes('\t')) throw new Error(`${file}:${n}: a tab in the indentation`);
    const text = uncomment(raw).trimEnd();
    if (text.trim() === '') continue;
    if (text === '---') {
      docs.push([]);
      continue;
    }
    if (text === '...' || text.startsWith('%') || text.startsWith('--- '))
      throw new Error(`${file}:${n}: YAML this reader does not read: '${text}'`);
    docs.at(-1)!.push({ n, indent: indentation.length, text: text.trimStart() });
  }
  return docs
    .filter((lines) => lines.length > 0)
    .map((lines) => {
      const r = new Reader(file, lines);
      const value = r.block(lines[0]!.indent);
      if (r.line) r.fail(r.line, 'unexpected text after the document');
      return value;
    });
}
