// A bounded wait, for what the master waits on but must never hang for.

/** Resolves true once `done` settles, or false after `ms`, whichever is first; leaves no timer behind. */
export function within(done: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  const settled = done.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}
