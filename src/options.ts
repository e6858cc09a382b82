// The checks every options object goes through (run()'s config, `overseer run`'s, the
// fetchers' options), with one wording. Each failure is made by the caller's `invalid`
// (errors.ts), which names the owner and the field where the user typed it:
// `overseer: config.readyTimeout …`, `overseer run: --ready-timeout …`, `HTTPFetcher: options.timeout …`.
import type { Invalid } from './errors.js';

export type Options = Record<string, unknown>;

/** The largest delay setTimeout honours; above it Node fires after 1 ms instead. */
export const TIMER_MAX = 2_147_483_647;

/** A value as a message shows it: a string quoted, so that '2' is not taken for the number 2. */
export function shown(v: unknown): string {
  if (typeof v === 'string') return `'${JSON.stringify(v).slice(1, -1)}'`;
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  if (typeof v === 'function') return 'a function';
  return String(v);
}

/** Every key must be a known one: a typo is a mistake, not an ignored option. */
export function onlyKnown(o: Options, known: readonly string[], invalid: Invalid): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw invalid(key, 'is not a known option');
  }
}

/** A number of milliseconds; `min` is 1 for timeouts (0 would fire at once) and 0 for intervals. */
export function durationOption(
  o: Options,
  key: string,
  fallback: number,
  min: 0 | 1,
  invalid: Invalid,
): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > TIMER_MAX) {
    throw invalid(key, `must be a number of milliseconds (${min} to 2^31-1), got ${shown(v)}`);
  }
  return v;
}

export function integerOption(
  o: Options,
  key: string,
  fallback: number,
  range: { min: number; max: number },
  invalid: Invalid,
): number {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < range.min || v > range.max) {
    throw invalid(key, `must be an integer from ${range.min} to ${range.max}, got ${shown(v)}`);
  }
  return v;
}

export function booleanOption(o: Options, key: string, fallback: boolean, invalid: Invalid): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw invalid(key, `must be a boolean, got ${typeof v}`);
  return v;
}

export function stringOption(
  o: Options,
  key: string,
  invalid: Invalid,
  nonEmpty = false,
): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || (nonEmpty && v === '')) {
    throw invalid(key, nonEmpty ? 'must be a non-empty string' : 'must be a string');
  }
  return v;
}

export function functionOption<F>(o: Options, key: string, invalid: Invalid): F | undefined {
  const v = o[key];
  if (v !== undefined && typeof v !== 'function') throw invalid(key, 'must be a function');
  return v as F | undefined;
}

/** An absolute http: or https: URL (or a URL object of one). */
export function httpUrlOption(o: Options, key: string, invalid: Invalid): URL | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const text = v instanceof URL ? v.href : v;
  if (typeof text !== 'string' || text === '') throw invalid(key, 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(key, `must be an absolute http(s) URL, got ${shown(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(key, `must use http: or https:, got ${url.protocol}`);
  }
  return url;
}

/**
 * An array of strings, or one string split into words as node splits NODE_OPTIONS
 * (`--node-args '--a --title="my app"'`): at spaces outside double quotes (and at tabs and line
 * ends, which node refuses there), the quotes taken away, a backslash inside them escaping the
 * character after it.
 */
export function wordsOption(o: Options, key: string, invalid: Invalid): string[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    const words = splitWords(v);
    if (words === undefined) throw invalid(key, `has a " that is not closed, got ${shown(v)}`);
    return words;
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw invalid(key, 'must be an array of strings');
  }
  return [...(v as string[])];
}

/** `text`'s words, NODE_OPTIONS' way; undefined for a quote left open. */
function splitWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) word = (word ?? '') + text[++i];
    else if (c === '"')
      quoted = !quoted; // a word is its characters: "" alone is none, as in node
    else if (!quoted && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (quoted) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

/** Names to strings (environment variables); each bad value is named `key.NAME`. */
export function stringRecordOption(
  o: Options,
  key: string,
  invalid: Invalid,
): Record<string, string> | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw invalid(key, 'must be an object of names to strings');
  }
  for (const [name, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw invalid(`${key}.${name}`, `must be a string, got ${typeof value}`);
  }
  return { ...(v as Record<string, string>) };
}

/**
 * One of `values`. One or two are shown as the strings a config writes (`'overlap' or
 * 'sequential'`), more as the words a command line takes (`one of listening, message, none`).
 */
export function oneOfOption<V extends string>(
  o: Options,
  key: string,
  values: readonly V[],
  invalid: Invalid,
): V | undefined {
  const v = o[key];
  if (v === undefined || values.includes(v as V)) return v as V | undefined;
  const choices =
    values.length > 2 ? `one of ${values.join(', ')}` : values.map((x) => `'${x}'`).join(' or ');
  throw invalid(key, `must be ${choices}, got ${shown(v)}`);
}
