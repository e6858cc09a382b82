// The examples run as users run them (`npm start` runs examples/hello), so what they show works.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeErrors, startLoad } from './helpers/load.js';
import { unitFile } from './helpers/unit-file.js';

/** One request on a new connection (a kept-alive one may still reach the draining worker). */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const hello = fileURLToPath(new URL('../examples/hello/server.js', import.meta.url));

test('examples/hello: serves, restarts on SIGUSR2 under load without a failed request, stops on Ctrl+C', async () => {
  const child = spawn(process.execPath, [hello], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const line = async (re: RegExp, after = 0): Promise<RegExpExecArray> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      for (const l of lines.slice(after)) {
        const m = re.exec(l);
        if (m) return m;
      }
      if (Date.now() > deadline) throw new Error(`no line like ${re}: ${lines.join(' | ')}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
  };
  try {
    const port = Number((await line(/^master \d+ listening on .*:(\d+)$/))[1]);
    await line(/^worker 1 \(pid \d+\) ready/);
    const body = await get(port);
    assert.match(body, /^hello from worker 1 \(pid \d+\) on :\d+\n$/);
    const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 30_000 });
    const mark = lines.length;
    child.kill('SIGUSR2');
    await line(/^restart done in \d+ ms$/, mark);
    const r = await load.stop();
    assert.equal(r.failed, 0, describeErrors(r));
    assert.ok(r.ok > 100, `too little load got through (${r.ok})`);
    assert.match(await get(port), /^hello from worker 2 /);
  } finally {
    child.kill('SIGINT');
  }
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 0, 'Ctrl+C is a graceful shutdown');
});

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const runExample = fileURLToPath(new URL('../../examples/run/', import.meta.url));

test("examples/run: an unmodified app under the unit's own `overseer run` command, with its config file: 2 workers, a restart under load with 0 failed, its cleanup after the drain", async () => {
  const unit = unitFile(path.join(runExample, 'overseer-app.service')).get('Service')!;
  assert.equal(unit.get('Type'), 'notify');
  assert.equal(unit.get('KillMode'), 'mixed', 'the stop signal reaches the master alone');
  assert.equal(unit.get('ExecReload'), '/bin/kill -USR2 $MAINPID');
  const [bin, ...args] = unit.get('ExecStart')!.split(' ');
  assert.match(bin!, /\/node_modules\/\.bin\/overseer$/);
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: runExample,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  const waitFor = async (re: RegExp, n = 1): Promise<string[]> => {
    for (let i = 0; i < 300; i++) {
      const found = lines.filter((l) => re.test(l));
      if (found.length >= n) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`not ${n} lines like ${re}: ${lines.join(' | ')}`);
  };
  try {
    const first = await waitFor(/^\[worker \d\] listening on :\d+$/, 2);
    const port = Number(first[0]!.split(':').at(-1));
    assert.match(await get(port), /^hello from pid \d+\n$/);
    const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 30_000 });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGUSR2'); // ExecReload
    await waitFor(/^\[worker [34]\] listening on :\d+$/, 2);
    await waitFor(/^\[worker [12]\] closing the database pool$/, 2);
    const r = await load.stop();
    assert.equal(r.failed, 0, describeErrors(r));
    assert.ok(r.ok > 100, `too little load got through (${r.ok})`);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 0, 'a graceful stop');
  await waitFor(/^\[worker [34]\] closing the database pool$/, 2);
});
