// overseer's own version, read from package.json so it is never out of date.
import fs from 'node:fs';

export const version: string = (
  JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
