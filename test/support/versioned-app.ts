// Writes versions of a small program (an .mjs entry file that imports the built overseer by
// absolute path) into a temp directory, for the upgrade tests.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE } from './paths.js';

// File URLs, so the import works on Windows too (a bare C:\ path is not an ESM specifier).
const overseer = pathToFileURL(path.join(BUNDLE, 'index.js')).href;
const fetchers = pathToFileURL(path.join(BUNDLE, 'fetcher', 'index.js')).href;

export interface VersionOptions {
  version: string;
  /** JS source of an expression that makes the fetcher (it may use FileFetcher, HTTPFetcher, GitHubFetcher). */
  fetcher: string;
  /** Throw in program(): passes the sanity check, fails to start. */
  throwOnStart?: boolean;
  /** Exit with this code when loaded (before run()): fails the sanity check. */
  exitOnLoad?: number;
  /** Print this instead of letting run() answer the sanity check, then exit 0. */
  wrongToken?: boolean;
  /** preUpgrade rejects while this file exists. */
  rejectFlag?: string;
  /** Extra overseer options, as JS source of an object literal's entries. */
  extra?: string;
  /** Become ready, then exit with code 1 this many ms later (a version that crashes soon). */
  crashAfterReadyMs?: number;
  /** Take this many ms in program() before serving (a version slow to become ready). */
  readyDelayMs?: number;
}

export function versionSource(o: VersionOptions): string {
  return `
import fs from 'node:fs';
import http from 'node:http';
import { currentMaster, run } from ${JSON.stringify(overseer)};
import { FileFetcher, HTTPFetcher, GitHubFetcher } from ${JSON.stringify(fetchers)};
const VERSION = ${JSON.stringify(o.version)};
${o.exitOnLoad !== undefined ? `if (process.env.OVERSEER_BIN_CHECK) process.exit(${o.exitOnLoad});` : ''}
${o.wrongToken ? `if (process.env.OVERSEER_BIN_CHECK) { console.log('not-the-token'); process.exit(0); }` : ''}
console.log('starting ' + VERSION); // a program that logs at start still passes the check
const ready = run({
  address: '127.0.0.1:0',
  minFetchInterval: 100,
  terminateTimeout: 5000,
  upgradeHealthWindow: 1000, // short, to keep the tests quick
  fetcher: ${o.fetcher},
  ${o.rejectFlag ? `preUpgrade: async () => { if (fs.existsSync(${JSON.stringify(o.rejectFlag)})) throw new Error('preUpgrade says no'); },` : ''}
  ${o.extra ?? ''}
  program: async (state) => {
    ${o.throwOnStart ? "throw new Error('this version cannot start');" : ''}
    ${o.readyDelayMs !== undefined ? `await new Promise((r) => setTimeout(r, ${o.readyDelayMs}));` : ''}
    const server = http.createServer((req, res) => {
      res.setHeader('x-pid', String(process.pid));
      res.setHeader('x-version', VERSION);
      res.end(VERSION);
    });
    await state.serve(server);
    ${o.crashAfterReadyMs !== undefined ? `setTimeout(() => process.exit(1), ${o.crashAfterReadyMs});` : ''}
  },
});
const master = currentMaster();
if (master) {
  for (const event of ['listening', 'fork', 'ready', 'restart', 'exit', 'crash', 'upgrade', 'rollout']) {
    master.on(event, (p) => console.log(JSON.stringify({ event, ...p, ...(p.error ? { error: p.error.message } : {}) })));
  }
  master.on('ready', () => console.log(JSON.stringify({ event: 'ipc', path: master.ipcPath })));
}
await ready;
`;
}

export function writeVersion(file: string, o: VersionOptions): void {
  fs.writeFileSync(file, versionSource(o));
}

/** Temp files the staging left next to the binary (there must be none). */
export function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.includes('.overseer-'));
}
