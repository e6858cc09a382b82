// Reads a Dockerfile for what a test checks without an engine to build it: the instructions
// (comments and line continuations as Docker reads them), ENV, WORKDIR, USER, EXPOSE, and
// ENTRYPOINT / CMD with the form each is written in (exec form: a JSON array, no shell).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

export interface Dockerfile {
  from: string;
  /** ENV, in order (KEY=value pairs). */
  env: Record<string, string>;
  workdir: string;
  user: string | undefined;
  expose: number[];
  /** ENTRYPOINT in exec form; a shell form fails the read. */
  entrypoint: string[] | undefined;
  /** CMD in exec form; a shell form fails the read. */
  cmd: string[] | undefined;
  instructions: { keyword: string; args: string }[];
}

function execForm(file: string, keyword: string, args: string): string[] {
  let argv: unknown;
  try {
    argv = JSON.parse(args);
  } catch {
    argv = undefined;
  }
  assert.ok(
    Array.isArray(argv) && argv.length > 0 && argv.every((a) => typeof a === 'string'),
    `${file}: ${keyword} in exec form (a JSON array of strings), not through a shell: ${args}`,
  );
  return argv as string[];
}

export function readDockerfile(file: string): Dockerfile {
  const instructions: { keyword: string; args: string }[] = [];
  let pending = '';
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const l = raw.trim();
    if (l.startsWith('#') || (l === '' && pending === '')) continue;
    if (l.endsWith('\\')) {
      pending += `${l.slice(0, -1)} `;
      continue;
    }
    const line = (pending + l).trim();
    pending = '';
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `${file}: an instruction: ${line}`);
    instructions.push({ keyword: m[1]!.toUpperCase(), args: m[2]! });
  }
  const stage = (from: string): Dockerfile => ({
    from,
    env: {},
    workdir: '/',
    user: undefined,
    expose: [],
    entrypoint: undefined,
    cmd: undefined,
    instructions,
  });
  // The last stage is the image. (Its base image's own ENV, USER and CMD are not known here; an
  // ENTRYPOINT drops the base image's CMD, so the CMD that counts is this file's.)
  let d = stage('');
  for (const { keyword, args } of instructions) {
    if (keyword === 'FROM') d = stage(args);
    else if (keyword === 'WORKDIR') d.workdir = path.posix.resolve(d.workdir, args);
    else if (keyword === 'USER') d.user = args;
    else if (keyword === 'EXPOSE') d.expose.push(...args.split(/\s+/).map((p) => Number.parseInt(p, 10)));
    else if (keyword === 'ENTRYPOINT') d.entrypoint = execForm(file, keyword, args);
    else if (keyword === 'CMD') d.cmd = execForm(file, keyword, args);
    else if (keyword === 'ENV') {
      for (const pair of args.split(/\s+/)) {
        const eq = pair.indexOf('=');
        assert.ok(eq > 0, `${file}: ENV as KEY=value pairs without quotes: ${args}`);
        d.env[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
    }
  }
  return d;
}
