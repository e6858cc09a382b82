// The checks every options object goes through (run()'s config, the fetchers' options),
// with one wording. Each failure is made by the caller's `invalid`, which names the owner
// and the field: `overseer: config.readyTimeout …`, `HTTPFetcher: options.timeout …`.

export type Options = Record<string, unknown>;
export type Invalid = (field: string, problem: string) => TypeError;

/** The largest delay setTimeout honours; above it Node fires after 1 ms instead. */
export const TIMER_MAX = 2_147_483_647;

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
    throw invalid(key, `must be a number of milliseconds (${min} to 2^31-1), got ${String(v)}`);
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
    throw invalid(key, `must be an integer from ${range.min} to ${range.max}, got ${String(v)}`);
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
