// Coded errors, shaped like Node's own: a stable `code` to branch on and a message for people.

export interface CodedError extends Error {
  code: string;
}

export function codedError<E extends Error>(
  ErrorClass: new (message: string, options?: ErrorOptions) => E,
  code: string,
  message: string,
  cause?: unknown,
): E & { code: string } {
  const err = new ErrorClass(message, cause === undefined ? undefined : { cause }) as E & { code: string };
  err.code = code;
  return err;
}

/** A bad config field: a TypeError naming the field. */
export function configError(field: string, problem: string): TypeError & { code: string } {
  return codedError(TypeError, 'ERR_OVERSEER_INVALID_CONFIG', `overseer: config.${field} ${problem}`);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
