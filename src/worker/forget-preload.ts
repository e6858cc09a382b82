// A preload is overseer's, not the program's: it goes out of process.execArgv, so the
// program's own child_process.fork() children (which inherit execArgv) are not given it.

/** Removes `flag value` and `flag=value` (`--require`, `--import`) from process.execArgv. */
export function forgetPreload(flag: '--require' | '--import', value: string): void {
  const argv = process.execArgv;
  for (let i = argv.length - 1; i >= 0; i--) {
    if (argv[i] === value && argv[i - 1] === flag) {
      argv.splice(i - 1, 2);
      i--;
    } else if (argv[i] === `${flag}=${value}`) argv.splice(i, 1);
  }
}
