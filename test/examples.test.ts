// The examples run as users run them (`npm start` runs examples/hello), so what they show works.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeErrors, startLoad } from './helpers/load.js';

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
