// overseer's own version, read from package.json so it is never out of date.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from './package-root.js';

export const version: string = (
  JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }
).version;
