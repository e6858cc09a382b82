// The listening fd moves between two unrelated processes (siblings, neither the other's
// parent) that meet at a unix socket, while HTTP load runs: no request may fail.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { get } from './support/http.js';
import { isLinux, makeTempDir, startFixture } from './support/native.js';
import { stopAll } from './support/process.js';

function parentPid(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

const tmp = makeTempDir();
after(async () => {
  await stopAll();
  tmp.cleanup();
});

test('SCM_RIGHTS hand-off of a live listener between unrelated processes', { timeout: 60_000 }, async () => {
  const meet = path.join(tmp.dir, 'meet.sock');
  const a = startFixture('handoff-a', [meet]);
  const ready = await a.message('ready');
  const port = ready.port as number;
  assert.ok(port > 0);

  const b = startFixture('handoff-b', [meet]);
  await b.message('connected');
  await a.message('peer');
  // Unrelated: both are children of this test, neither is the other's parent.
  assert.notEqual(a.pid, b.pid);
  if (isLinux) {
    for (const f of [a, b]) assert.equal(parentPid(f.pid), process.pid);
  }

  const seen = new Map<string, number>();
  const errors: string[] = [];
  let next = 0;
  let released = false;
  void a.message('released', 30_000).then(
    () => {
      released = true;
    },
    () => {},
  );

  // 200 requests over 4 connections-at-a-time lanes, no keep-alive. The hand-off starts
  // after request 50; before request 150 each lane waits (bounded) until a has let go, so
  // the tail is certainly served by b.
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= 200) return;
      if (i === 50) a.send({ type: 'handoff' });
      if (i >= 150) {
        for (let waited = 0; !released && waited < 10_000; waited += 10) {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      try {
        const res = await get(port, { timeoutMs: 5_000 });
        if (res.status !== 200) errors.push(`#${i}: status ${res.status}`);
        seen.set(res.body, (seen.get(res.body) ?? 0) + 1);
      } catch (err) {
        errors.push(`#${i}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  await Promise.all([lane(), lane(), lane(), lane()]);

  assert.deepEqual(errors, []);
  assert.ok(released, 'a never released the listener');
  const serving = await b.message('serving');
  assert.deepEqual(serving.payload, { port, from: a.pid });
  assert.equal(serving.cloexec, true);
  const description = serving.description as { family: string; listening: boolean; port: number };
  assert.deepEqual([description.family, description.listening, description.port], ['IPv4', true, port]);
  assert.ok((seen.get(String(a.pid)) ?? 0) > 0, `a answered nothing: ${JSON.stringify([...seen])}`);
  assert.ok((seen.get(String(b.pid)) ?? 0) > 0, `b answered nothing: ${JSON.stringify([...seen])}`);
  assert.equal(
    [...seen.values()].reduce((x, y) => x + y, 0),
    200,
  );
  assert.deepEqual([...seen.keys()].sort(), [String(a.pid), String(b.pid)].sort());
});
