// A master's name: what `--name`, `name` in the config and `settings.name` take, and what a
// default name is made into. A name is one safe file-name component, since the control socket
// lives at a path made from it (`<dir>/<name>.sock`, `\\.\pipe\overseer-<user>-<name>`):
// 1 to 64 ASCII letters, digits, '.', '_' and '-', starting with a letter or a digit.

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX = 64;

/** Why `name` cannot be a master's name, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  return NAME.test(name)
    ? undefined
    : `must be 1 to ${MAX} letters, digits, '.', '_' or '-', starting with a letter or a digit, got '${name}'`;
}

/**
 * Any text made into a name, as `npm pack` names a scoped package's file: `@acme/api` is
 * `acme-api`; other characters become '-'. '' when nothing is left.
 */
export function toName(text: string): string {
  return text
    .replace(/^@/, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX);
}
