// A staged rollout across a fleet, on one machine: 20 masters with distinct fleet ids, each a
// small run() program with one worker whose HTTPFetcher reads one release manifest from a local
// server. v1 → v2 at 10 %: exactly the masters whose share point (the README's formula, computed
// here on its own) is below 10 take it; at 50 %: those below 50, the first ones kept; halted at
// 100 %: nobody more; v2 marked bad: every master that took it is back on v1, from its .prev,
// through a hitless restart. Keep-alive load on every master throughout: 0 failed requests.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { startServer } from './support/fetcher-server.js';
import { get } from './support/http.js';
import { describeErrors, type LoadRun, startLoad } from './support/load.js';
import { CLI } from './support/paths.js';
import { type ProcessEvent, stopAll } from './support/process.js';
import { versionSource } from './support/versioned-app.js';

after(stopAll);

const MASTERS = 20;
/** How often each master reads the manifest (±10 %). */
const INTERVAL = 500;
/** The longest one phase may take on a busy machine. */
const PHASE_MS = 120_000;

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** The share point of the README: sha256 of `<fleet id>\n<version>`, its first 6 bytes over 2^48, × 100. */
function point(id: string, version: string): number {
  const d = createHash('sha256').update(`${id}\n${version}`).digest();
  return (d.readUIntBE(0, 6) / 2 ** 48) * 100;
}

interface Master {
  id: string;
  app: AppProcess;
  port: number;
  ipc: string;
  load?: LoadRun;
}

test('20 masters, one manifest: 10 %, 50 %, halt, and v2 marked bad, under load with 0 failed requests', async () => {
  let manifest = '';
  const versions = new Map<string, string>();
  const server = await startServer((req, res) => {
    const body = req.url === '/manifest.json' ? manifest : versions.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.end(body);
  });
  after(() => server.close());
  const fetcher = `new HTTPFetcher({ url: ${JSON.stringify(`${server.url}/manifest.json`)}, manifest: true, interval: ${INTERVAL}, timeout: 5000 })`;
  const source = (version: string): string =>
    versionSource({
      version,
      fetcher,
      extra: 'fleetId: process.env.FLEET_ID, ipcPath: process.env.IPC_PATH,',
    });
  const v1 = source('v1');
  const v2 = source('v2');
  versions.set('/v1.mjs', v1);
  versions.set('/v2.mjs', v2);
  const setManifest = (m: object): void => {
    manifest = JSON.stringify({ manifest: 1, ...m });
  };
  const V1 = { version: 'v1', url: 'v1.mjs', sha256: sha(v1) };
  const V2 = { version: 'v2', url: 'v2.mjs', sha256: sha(v2) };
  setManifest(V1);

  const ids = Array.from({ length: MASTERS }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
  const within = (percent: number): string[] => ids.filter((id) => point(id, 'v2') < percent);
  const t0 = Date.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-fleet-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const masters: Master[] = await Promise.all(
    ids.map(async (id) => {
      const bin = path.join(root, id, 'app.mjs');
      fs.mkdirSync(path.dirname(bin));
      fs.writeFileSync(bin, v1);
      // A control socket of its own, outside os.tmpdir(): 20 masters starting at once each sweep
      // the default directory for stale sockets, and one caught between another's bind() and
      // listen() would look stale (a race of the sweep, not of the rollout).
      const env = { FLEET_ID: id, IPC_PATH: path.join(root, id, 'control.sock') };
      const app = new AppProcess({}, { script: bin, env });
      const port = await app.port();
      const ipc = String((await app.nth('ipc', 1, 60_000)).path);
      return { id, app, port, ipc };
    }),
  );
  // Each reads the manifest of v1 and learns that it runs v1.
  await Promise.all(masters.map((m) => rollout(m, 0, (e) => e.version === 'v1' && e.reason === 'running')));
  const started = Date.now() - t0;
  for (const m of masters)
    m.load = startLoad({ port: m.port, concurrency: 1, keepAlive: true, maxMs: 300_000 });

  const figures: string[] = [`${MASTERS} masters up in ${(started / 1000).toFixed(1)} s`];
  /** Sets the manifest; waits until every master has decided on it, and those in `taking` have switched. */
  async function phase(
    name: string,
    m: object,
    settled: (e: ProcessEvent, master: Master) => boolean,
    taking: readonly string[],
    result: 'upgraded' | 'rolled-back',
  ): Promise<void> {
    const t = Date.now();
    const from = masters.map((x) => x.app.events.length);
    setManifest(m);
    await Promise.all(
      masters.map(async (x, i) => {
        if (taking.includes(x.id)) {
          const up = await x.app.until(
            () => x.app.events.slice(from[i]).find((e) => e.event === 'upgrade'),
            PHASE_MS,
            `${x.id}: an upgrade (${name})`,
          );
          assert.equal(up.result, result, `${x.id} (${name}): ${JSON.stringify(up)}`);
        }
        await rollout(x, from[i]!, (e) => settled(e, x));
      }),
    );
    const switched = masters.filter((x, i) => x.app.events.slice(from[i]).some((e) => e.event === 'upgrade'));
    assert.deepEqual(
      switched.map((x) => x.id),
      taking,
      `${name}: exactly the masters expected switched`,
    );
    figures.push(
      `${name}: ${taking.length} switched (${taking.join(', ') || 'none'}) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );
  }

  const ten = within(10);
  const fifty = within(50);
  assert.ok(
    ten.every((id) => fifty.includes(id)),
    'raising the percent only adds masters',
  );
  const onV2 = (e: ProcessEvent): boolean =>
    e.running === 'v2' && e.reason === 'running' && e.decision === 'hold';
  const outOf = (e: ProcessEvent): boolean => e.running === 'v1' && e.reason === 'out-of-share';

  await phase(
    'v2 at 10 %',
    { ...V2, rollout: { percent: 10 } },
    (e, x) => e.version === 'v2' && e.percent === 10 && (ten.includes(x.id) ? onV2(e) : outOf(e)),
    ten,
    'upgraded',
  );
  await phase(
    'v2 at 50 %',
    { ...V2, rollout: { percent: 50 } },
    (e, x) => e.version === 'v2' && e.percent === 50 && (fifty.includes(x.id) ? onV2(e) : outOf(e)),
    fifty.filter((id) => !ten.includes(id)),
    'upgraded',
  );
  await phase(
    'halted at 100 %',
    { ...V2, rollout: { percent: 100 }, halt: true },
    (e, x) =>
      e.halted === true &&
      e.percent === 100 &&
      (fifty.includes(x.id) ? onV2(e) : e.running === 'v1' && e.reason === 'halted'),
    [],
    'upgraded',
  );
  await phase(
    'v2 marked bad',
    { ...V2, rollout: { percent: 100 }, halt: true, bad: ['v2'] },
    (e) => e.running === 'v1' && e.reason === 'marked-bad' && e.decision === 'hold',
    fifty,
    'rolled-back',
  );
  for (const x of masters.filter((x) => fifty.includes(x.id))) {
    const back = x.app.events.filter((e) => e.event === 'upgrade').at(-1)!;
    assert.deepEqual([back.from, back.version, back.newHash], ['v2', 'v1', sha(v1)]);
  }

  const results = await Promise.all(masters.map((x) => x.load!.stop()));
  const ok = results.reduce((n, r) => n + r.ok, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  figures.push(
    `load: ${ok} requests ok, ${failed} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s in all`,
  );
  console.log(`fleet rollout: ${figures.join('; ')}`);
  assert.equal(failed, 0, results.map(describeErrors).join(' | '));
  assert.ok(
    results.every((r) => r.ok > 20),
    `too little load got through: ${results.map((r) => r.ok).join(', ')}`,
  );

  // Every master runs v1 again, says so, and serves it.
  for (const x of masters) {
    const status = (await ipcRequest(x.ipc, 'GET', '/overseer/status')).body as {
      binHash: string;
      fetcher: { rollbacks: number; badHashes: string[]; release: { running: string; version: string } };
    };
    assert.equal(status.binHash, sha(v1), x.id);
    assert.equal(status.fetcher.release.running, 'v1');
    assert.equal(status.fetcher.rollbacks, fifty.includes(x.id) ? 1 : 0);
    assert.deepEqual(status.fetcher.badHashes, fifty.includes(x.id) ? [sha(v2)] : []);
    assert.equal((await get(x.port)).body, 'v1');
  }
  const metrics = (await ipcRequest(masters[0]!.ipc, 'GET', '/overseer/metrics')).body as string;
  assert.match(metrics, /^overseer_release_info\{running="v1",version="v2",step="",decision="hold"\} 1$/m);
  assert.match(metrics, /^overseer_rollout_percent 100$/m);
  assert.match(metrics, /^overseer_rollout_halted 1$/m);
  const text = execFileSync(process.execPath, [CLI, 'status', '--socket', masters[0]!.ipc], {
    encoding: 'utf8',
  });
  assert.match(
    text,
    /^release {3}running v1; manifest v2 at 100 %, halted, (in|not in) the share: hold \(marked-bad\)$/m,
  );
});

/** The first 'rollout' event from index `from` on that `ok` accepts. */
function rollout(m: Master, from: number, ok: (e: ProcessEvent) => boolean): Promise<ProcessEvent> {
  return m.app.until(
    () => m.app.events.slice(from).find((e) => e.event === 'rollout' && ok(e)),
    PHASE_MS,
    `${m.id}: a rollout event as expected`,
  );
}
