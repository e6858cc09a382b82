// The one way overseer makes an error: codedError(), shaped like Node's own errors, with a
// stable `code` from the one registry (codes.ts) to branch on and a message for people. A bad
// option is made by an Invalid from invalidFor(), which names the option where the user typed
// it: `overseer: config.workers …`, `overseer run: --workers …`, `HTTPFetcher: options.url …`.
import type { ErrorCode, SystemCode } from './codes.js';

export interface CodedError extends Error {
  code: string;
}

declare const fromCause: unique symbol;
/** A code taken over from the error being wrapped (ENOSPC, ABORT_ERR…); only causeCode() makes one. */
export type CauseCode = string & { readonly [fromCause]: true };

export function codedError<E extends Error>(
  ErrorClass: new (message: string, options?: ErrorOptions) => E,
  code: ErrorCode | SystemCode | CauseCode,
  message: string,
  cause?: unknown,
): E & { code: string } {
  const err = new ErrorClass(message, cause === undefined ? undefined : { cause }) as E & { code: string };
  err.code = code;
  return err;
}

/** The `code` of `cause` when it has one (ENOSPC, EACCES…), else `fallback`: to wrap an error and keep its code. */
export function causeCode(cause: unknown, fallback: ErrorCode): ErrorCode | CauseCode {
  return (errorCode(cause) as CauseCode | undefined) ?? fallback;
}

/** Makes the error for a bad option: `invalid('workers', 'must be …')`. */
export type Invalid = (field: string, problem: string) => TypeError;

/** An Invalid that can also name a field as the user wrote it, for a mistake between two fields. */
export interface InvalidFor extends Invalid {
  /** 'config.workers', '--workers', 'overseer.config.json: workers'… */
  named(field: string): string;
}

/**
 * The Invalid of one owner: each error is `<owner>: <field as named> <problem>`, coded
 * ERR_OVERSEER_INVALID_CONFIG. `name` is a prefix ('config.', 'options.', 'settings.') or a
 * function; the field '' is the whole object ('config', 'options').
 */
export function invalidFor(owner: string, name: string | ((field: string) => string)): InvalidFor {
  const named =
    typeof name === 'function'
      ? name
      : (field: string) => (field === '' ? name.replace(/\.$/, '') : `${name}${field}`);
  const invalid = (field: string, problem: string) =>
    codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `${owner}: ${named(field)} ${problem}`);
  return Object.assign(invalid, { named });
}

/** run()'s config: `overseer: config.<field> …`. */
export const invalidConfig = invalidFor('overseer', 'config.');

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The `code` of an error, when it has a string one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A failure as one line for people: the message, and its code where it has one not already in it. */
export function withCode(message: unknown, code: unknown): string {
  const text = String(message);
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}
