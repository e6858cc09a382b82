// Upgrades with the HTTPFetcher and the GitHubFetcher against local servers: a clean
// upgrade under load, and every fault ending with the old version serving and no temp files.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcRequest } from '../src/control/client.js';
import { AppProcess } from './support/app.js';
import { startServer, type TestServer } from './support/fetcher-server.js';
import { describeErrors, startLoad } from './support/load.js';
import { stopAll } from './support/process.js';
import { leftovers, type VersionOptions, versionSource, writeVersion } from './support/versioned-app.js';

type Mode = 'ok' | '500' | 'reset' | 'truncate' | 'stall' | 'trickle' | 'bad-checksum' | 'bad-signature';

const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

// What the release server offers, and how it misbehaves.
let body = '';
let etag = '"1"';
let mode: Mode = 'ok';
let server: TestServer;

before(async () => {
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/app.mjs.sha256') {
      res.end(`${mode === 'bad-checksum' ? sha('something else') : sha(body)}  app.mjs\n`);
      return;
    }
    if (url.pathname === '/app.mjs.sig') {
      const signed = mode === 'bad-signature' ? 'something else' : body;
      res.end(sign(null, Buffer.from(signed), privateKey));
      return;
    }
    if (mode === '500' && req.method === 'GET') {
      res.writeHead(500).end('broken');
      return;
    }
    res.setHeader('ETag', etag);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    if (req.method === 'HEAD') return res.end();
    const half = body.slice(0, Math.floor(body.length / 2));
    if (mode === 'reset') {
      res.flushHeaders();
      res.write(half, () => setTimeout(() => req.socket.destroy(), 20));
    } else if (mode === 'truncate') {
      res.write(half, () => setTimeout(() => req.socket.end(), 20));
    } else if (mode === 'stall') {
      res.write(half); // and nothing more
    } else if (mode === 'trickle') {
      // 50 bytes/s, never silent for long enough to stall: only the rate check ends it.
      let at = 0;
      const t = setInterval(() => res.write(body.slice(at, ++at)), 20);
      res.on('close', () => clearInterval(t));
    } else {
      res.end(body);
    }
  });
});
after(async () => {
  await stopAll();
  await server.close();
});

async function setup(extra: Partial<VersionOptions> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-upgrade-http-'));
  const bin = path.join(dir, 'app.mjs');
  const fetcher = `new HTTPFetcher({
    url: ${JSON.stringify(`${server.url}/app.mjs`)},
    interval: 3600000,
    timeout: 1000,
    sha256Url: ${JSON.stringify(`${server.url}/app.mjs.sha256`)},
    signatureUrl: ${JSON.stringify(`${server.url}/app.mjs.sig`)},
    publicKey: ${JSON.stringify(publicPem)},
  })`;
  const opts = (v: Partial<VersionOptions>): VersionOptions => ({ version: 'v1', fetcher, ...extra, ...v });
  writeVersion(bin, opts({}));
  body = fs.readFileSync(bin, 'utf8');
  etag = '"v1"';
  mode = 'ok';
  const app = new AppProcess({}, { script: bin });
  const port = await app.port();
  await app.nth('ready', 1);
  const ipc = String((await app.nth('ipc', 1)).path);
  const trigger = async () => {
    const r = await ipcRequest(ipc, 'POST', '/overseer/trigger-update');
    return r.body as Record<string, unknown>;
  };
  // The first check finds the running version itself: that is "no update", and committed.
  assert.equal((await trigger()).result, 'no-update');
  const offer = (v: Partial<VersionOptions>): string => {
    body = versionSource(opts(v));
    etag = `"${sha(body).slice(0, 8)}"`;
    return body;
  };
  return { dir, bin, app, port, trigger, offer, v1: fs.readFileSync(bin, 'utf8') };
}

test('HTTP: a new version, checksum and signature verified, served with zero failed requests', async () => {
  const { dir, bin, app, port, trigger, offer, v1 } = await setup();
  const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000 });
  const v2 = offer({ version: 'v2' });
  const r = await trigger();
  const result = await load.stop();
  assert.equal(r.result, 'upgraded', JSON.stringify(r));
  assert.equal(r.oldHash, sha(v1));
  assert.equal(r.newHash, sha(v2));
  assert.equal(result.failed, 0, describeErrors(result));
  assert.equal(fs.readFileSync(bin, 'utf8'), v2);
  assert.deepEqual(leftovers(dir), []);
  // Its ETag is committed now: the same version is not fetched again.
  const gets = server.requests.filter((q) => q.method === 'GET' && q.url === '/app.mjs').length;
  assert.equal((await trigger()).result, 'no-update');
  assert.equal(server.requests.filter((q) => q.method === 'GET' && q.url === '/app.mjs').length, gets);
  assert.equal(app.count('upgrade'), 1);
});

for (const [fault, code] of [
  ['500', 'ERR_OVERSEER_FETCH_HTTP'],
  ['reset', undefined],
  ['truncate', undefined],
  ['stall', undefined],
  ['trickle', 'ERR_OVERSEER_FETCH_TOO_SLOW'],
  ['bad-checksum', 'ERR_OVERSEER_CHECKSUM'],
  ['bad-signature', 'ERR_OVERSEER_SIGNATURE'],
] as const) {
  test(`HTTP fault '${fault}': the old version keeps serving and no temp file is left`, async () => {
    const { dir, bin, app, port, trigger, offer, v1 } = await setup();
    const load = startLoad({ port, concurrency: 4, keepAlive: true, maxMs: 60_000 });
    offer({ version: 'v2' });
    mode = fault;
    const t0 = Date.now();
    // A second trigger joins the cycle under way, and neither waits past the fetcher's bounds.
    const [r, joined] = await Promise.all([trigger(), trigger()]);
    const took = Date.now() - t0;
    const result = await load.stop();
    assert.deepEqual(joined, r);
    assert.ok(took < 10_000, `trigger-update took ${took} ms`);
    assert.equal(r.result, 'failed', JSON.stringify(r));
    if (code) assert.equal(r.code, code, JSON.stringify(r));
    assert.equal(result.failed, 0, describeErrors(result));
    assert.equal(fs.readFileSync(bin, 'utf8'), v1);
    assert.deepEqual(leftovers(dir), []);
    assert.equal(app.count('fork'), 1);
    // Nothing was committed: once the server behaves, the same version goes through.
    mode = 'ok';
    await sleep(150);
    assert.equal((await trigger()).result, 'upgraded');
  });
}

test('GitHub: the latest release is fetched through the storage redirect and served under load', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-upgrade-gh-'));
  const bin = path.join(dir, 'app.mjs');
  let release = { tag: 'v1', id: 1, body: '' };
  // Checked after the fact: an assertion thrown in a handler would only hang the request.
  const storage = await startServer((_req, res) => res.end(release.body));
  const api = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/repos/acme/app/releases/latest') {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          tag_name: release.tag,
          assets: [
            {
              id: release.id,
              name: `app-${process.platform}-${process.arch}.mjs`,
              size: Buffer.byteLength(release.body),
              url: `${api.url}/repos/acme/app/releases/assets/${release.id}`,
              browser_download_url: `${storage.url}/download/${release.id}`,
            },
          ],
        }),
      );
      return;
    }
    if (url.pathname.startsWith('/repos/acme/app/releases/assets/')) {
      res.writeHead(302, { Location: `${storage.url}/blob/${release.id}?sig=x` }).end();
      return;
    }
    res.writeHead(404).end();
  });
  try {
    const fetcher = `new GitHubFetcher({ owner: 'acme', repo: 'app', token: 't0ken', baseUrl: ${JSON.stringify(api.url)}, interval: 3600000 })`;
    writeVersion(bin, { version: 'v1', fetcher });
    release = { tag: 'v1', id: 1, body: fs.readFileSync(bin, 'utf8') };
    const app = new AppProcess({}, { script: bin });
    const port = await app.port();
    await app.nth('ready', 1);
    const ipc = String((await app.nth('ipc', 1)).path);
    const trigger = async () =>
      (await ipcRequest(ipc, 'POST', '/overseer/trigger-update')).body as Record<string, unknown>;
    assert.equal((await trigger()).result, 'no-update');
    const load = startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 60_000 });
    release = { tag: 'v2', id: 2, body: versionSource({ version: 'v2', fetcher }) };
    const r = await trigger();
    const result = await load.stop();
    assert.equal(r.result, 'upgraded', JSON.stringify(r));
    assert.equal(result.failed, 0, describeErrors(result));
    assert.equal(fs.readFileSync(bin, 'utf8'), release.body);
    assert.deepEqual(leftovers(dir), []);
    // Same tag and asset id: not downloaded again.
    const downloads = storage.requests.length;
    assert.equal((await trigger()).result, 'no-update');
    assert.equal(storage.requests.length, downloads);
    // The token went to the API, and never to the storage host.
    const latest = api.requests.filter((q) => q.url === '/repos/acme/app/releases/latest');
    assert.ok(latest.length >= 3, `${latest.length} release look-ups`);
    for (const q of latest) assert.equal(q.headers.authorization, 'Bearer t0ken');
    assert.ok(downloads > 0, 'nothing was downloaded from the storage host');
    for (const q of storage.requests) {
      assert.equal(q.headers.authorization, undefined, 'the token leaked to the storage host');
    }
  } finally {
    await api.close();
    await storage.close();
  }
});
