// A scan of JSON's syntax that builds nothing: for a line the master leaves undecoded (a long
// message nobody hears, a handle's), whether it can be what Node writes at all, so garbage is
// reported as garbage instead of skipped along with the real message it ran into. It checks the
// grammar's shape (nesting, commas and colons, string escapes, literals); numbers loosely.

enum Next {
  /** A value (at the start, after ':', after ',' in an array). */
  Value,
  /** Right after '[': a value or ']'. */
  ArrayFirst,
  /** Right after '{': a key or '}'. */
  ObjectFirst,
  /** After ',' in an object: a key. */
  Key,
  Colon,
  /** After a value: ',' or the close of its container, or nothing more at the top. */
  After,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** What may follow a backslash in a string: " \ / b f n r t u. */
const ESCAPES = new Set([...'"\\/bfnrtu'].map((c) => c.charCodeAt(0)));
const LITERALS = new Map([
  ...['true', 'false', 'null'].map((w) => [w.charCodeAt(0), Buffer.from(w)] as const),
]);

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isNumberByte = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;

/**
 * Whether `text` is one JSON text; with `prefix`, whether it can be the start of one (a text cut
 * anywhere). Bytes over 0x7F are let be (the caller checks UTF-8 on its own).
 */
export function isJsonText(text: Uint8Array, prefix = false): boolean {
  const n = text.length;
  /** The open containers: their closing bytes. */
  const open: number[] = [];
  let next = Next.Value;
  let i = 0;
  /** The text ends inside a string or a literal. */
  let cut = false;
  while (i < n) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    switch (next) {
      case Next.After: {
        if (open.length === 0) return false; // more after the whole text
        if (c === COMMA) next = open.at(-1) === CLOSE_OBJECT ? Next.Key : Next.Value;
        else if (c === open.at(-1)) open.pop();
        else return false;
        i++;
        continue;
      }
      case Next.Colon:
        if (c !== COLON) return false;
        next = Next.Value;
        i++;
        continue;
      case Next.ObjectFirst:
      case Next.Key:
        if (next === Next.ObjectFirst && c === CLOSE_OBJECT) {
          open.pop();
          next = Next.After;
          i++;
          continue;
        }
        if (c !== QUOTE) return false;
        i = stringEnd(text, i);
        if (i < 0) return false;
        cut = i > n;
        next = Next.Colon;
        continue;
      default: // Value, ArrayFirst
        if (next === Next.ArrayFirst && c === CLOSE_ARRAY) {
          open.pop();
          next = Next.After;
          i++;
          continue;
        }
        next = Next.After;
        if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
          open.push(c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);
          next = c === OPEN_OBJECT ? Next.ObjectFirst : Next.ArrayFirst;
          i++;
        } else if (c === QUOTE) {
          i = stringEnd(text, i);
          if (i < 0) return false;
          cut = i > n;
        } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          while (i < n && isNumberByte(text[i]!)) i++;
        } else {
          const word = LITERALS.get(c);
          if (word === undefined) return false;
          let k = 0;
          for (; k < word.length && i < n; k++, i++) if (text[i] !== word[k]) return false;
          cut = k < word.length;
        }
    }
  }
  // A prefix may be cut anywhere: in a token, in a container, before a value.
  return prefix || (next === Next.After && open.length === 0 && !cut);
}

/** Where the string that starts at `start` (its quote) ends: past its closing quote; n + 1 where cut off; -1 where bad. */
function stringEnd(text: Uint8Array, start: number): number {
  const n = text.length;
  let i = start + 1;
  while (i < n) {
    const c = text[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      if (i + 1 < n && !ESCAPES.has(text[i + 1]!)) return -1;
      i += 2;
    } else i++;
  }
  return n + 1;
}
