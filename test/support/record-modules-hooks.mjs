// The loader hook of record-modules.mjs: it runs on the loader's thread and appends each
// module URL it is asked to load to the log file it was given.
import fs from 'node:fs';

let log;
export function initialize(data) {
  log = data.log;
}
export async function load(url, context, next) {
  fs.appendFileSync(log, `${url}\n`);
  return next(url, context);
}
