// Coded errors, shaped like Node's own: a stable `code` from the one registry (codes.ts) to
// branch on, and a message for people.
import type { ErrorCode, SystemCode } from './codes.js';

export interface CodedError extends Error {
  code: string;
}

export function codedError<E extends Error>(
  ErrorClass: new (message: string, options?: ErrorOptions) => E,
  code: ErrorCode | SystemCode,
  message: string,
  cause?: unknown,
): E & { code: string } {
  const err = new ErrorClass(message, cause === undefined ? undefined : { cause }) as E & { code: string };
  err.code = code;
  return err;
}

/** A new Error with `message` that keeps the `code` of `cause` (ENOSPC, EACCES…), or `fallback`. */
export function withCauseCode(
  cause: unknown,
  fallback: ErrorCode,
  message: string,
): Error & { code: string } {
  const own = (cause as { code?: unknown }).code;
  const err = new Error(message, { cause }) as Error & { code: string };
  err.code = typeof own === 'string' ? own : fallback;
  return err;
}

/** A bad config field: a TypeError naming the field. */
export function configError(field: string, problem: string): TypeError & { code: string } {
  return codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `overseer: config.${field} ${problem}`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `code` of an error, when it has a string one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
