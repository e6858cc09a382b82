// The fetchers in manifest mode (`manifest: true`): each check reads the release manifest; the
// version it names is downloaded, relative to it, only when the master opens it, carrying the
// manifest's sha256 (and signature) for the master to check; this fetcher's credentials never
// go to another origin; a malformed manifest is a coded error; the options that the manifest
// replaces are refused; FileFetcher reads it again when it changes or a rollout step begins.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { FetchedManifest } from '../src/fetcher/fetcher.js';
import { FileFetcher, HTTPFetcher, S3Fetcher } from '../src/fetcher/index.js';
import { optionChecker, readStream, sha256, signal, startServer } from './support/fetcher-server.js';

const V2 = 'console.log("v2")';
const manifestOf = (extra: object = {}): string =>
  JSON.stringify({ manifest: 1, version: 'v2', url: 'app-v2.mjs', sha256: sha256(V2), ...extra });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-manifest-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What a manifest-mode check gave; null or a version fails the test. */
function asManifest(v: unknown): FetchedManifest {
  assert.ok(v && typeof v === 'object' && 'manifest' in v, 'expected a FetchedManifest');
  return v as FetchedManifest;
}

test('HTTP: each check reads the manifest; the version downloads only when opened, relative to it', async () => {
  let body = manifestOf();
  const srv = await startServer((req, res) => {
    if (req.url === '/releases/manifest.json') res.end(body);
    else if (req.url === '/releases/app-v2.mjs') res.end(V2);
    else res.writeHead(404).end();
  });
  try {
    const f = new HTTPFetcher({
      url: `${srv.url}/releases/manifest.json`,
      manifest: true,
      headers: { authorization: 'x' },
    });
    // The type follows the option: a manifest-mode check is a FetchedManifest (or null).
    const got = await f.fetch(signal());
    assert.equal(got?.manifest.version, 'v2');
    const m = asManifest(got);
    assert.equal(m.source, `${srv.url}/releases/manifest.json`);
    assert.deepEqual(
      srv.requests.map((r) => r.url),
      ['/releases/manifest.json'],
      'nothing but the manifest until the master takes the version',
    );
    const v = await m.open(signal());
    assert.equal((await readStream(v.stream)).toString(), V2);
    assert.equal(v.name, 'app-v2.mjs');
    assert.equal(v.version, 'v2');
    assert.equal(v.sha256, sha256(V2));
    assert.equal(v.signature, undefined);
    assert.equal(v.commit, undefined);
    assert.equal(
      srv.requests.at(-1)?.headers.authorization,
      'x',
      "the manifest's own origin gets the headers",
    );
    // The next check reads it again (a rollout changes without the version changing).
    body = manifestOf({ rollout: { percent: 10 }, halt: true });
    const again = asManifest(await f.fetch(signal(), { immediate: true }));
    assert.deepEqual(again.manifest.rollout, { percent: 10 });
    assert.equal(again.manifest.halt, true);
    // A malformed manifest is a coded error, and changes nothing on the fetcher.
    body = manifestOf({ rollout: { percent: 200 } });
    await assert.rejects(f.fetch(signal(), { immediate: true }), {
      code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      message: `${srv.url}/releases/manifest.json: release manifest: rollout.percent must be a number from 0 to 100, got 200`,
    });
    body = '{"manifest": 1, "version": "v2"';
    await assert.rejects(f.fetch(signal(), { immediate: true }), { code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE' });
    // A manifest that is not a small document is refused, not read whole.
    body = ' '.repeat((1 << 20) + 1);
    await assert.rejects(f.fetch(signal(), { immediate: true }), { code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE' });
  } finally {
    await srv.close();
  }
});

test('HTTP: a version on another origin gets none of the headers; a signed manifest needs a public key', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const cdn = await startServer((_req, res) => res.end(V2));
  let body = '';
  const srv = await startServer((_req, res) => res.end(body));
  try {
    body = manifestOf({ url: `${cdn.url}/app-v2.mjs` });
    const f = new HTTPFetcher({
      url: `${srv.url}/manifest.json`,
      manifest: true,
      headers: { authorization: 'secret', cookie: 'c' },
      publicKey,
    });
    const m = asManifest(await f.fetch(signal()));
    // The fetcher has a public key and the manifest no signature: refused before any download.
    await assert.rejects(m.open(signal()), { code: 'ERR_OVERSEER_SIGNATURE' });
    assert.equal(cdn.requests.length, 0);

    body = manifestOf({
      url: `${cdn.url}/app-v2.mjs`,
      signature: sign(null, Buffer.from(V2), privateKey).toString('base64'),
    });
    const signed = asManifest(await f.fetch(signal(), { immediate: true }));
    const v = await signed.open(signal());
    assert.equal((await readStream(v.stream)).toString(), V2);
    assert.equal(v.publicKey, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    assert.equal(v.signature?.length, 64);
    assert.equal(cdn.requests[0]?.headers.authorization, undefined);
    assert.equal(cdn.requests[0]?.headers.cookie, undefined);
    assert.equal(srv.requests[0]?.headers.authorization, 'secret');

    body = manifestOf({ url: 'file:///etc/passwd', signature: Buffer.alloc(64).toString('base64') });
    const local = asManifest(await f.fetch(signal(), { immediate: true }));
    await assert.rejects(local.open(signal()), {
      code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      message: /url must be an http\(s\) URL or a path, got file:/,
    });
  } finally {
    await srv.close();
    await cdn.close();
  }
});

test('the options the manifest replaces are refused with it', () => {
  const http = optionChecker((o) => new HTTPFetcher(o));
  http({ url: 'http://x/m.json', manifest: 'yes' }, /HTTPFetcher: options.manifest must be a boolean/);
  for (const key of ['checkHeaders', 'sha256', 'sha256Url', 'signatureUrl']) {
    const value = key === 'checkHeaders' ? ['etag'] : key === 'sha256' ? 'a'.repeat(64) : 'http://x/s';
    http(
      { url: 'http://x/m.json', manifest: true, [key]: value },
      new RegExp(`HTTPFetcher: options.${key} does not apply with options.manifest`),
    );
  }
  const s3 = optionChecker((o) => new S3Fetcher(o, {}));
  for (const key of ['sha256', 'sha256Key', 'signatureKey']) {
    s3(
      { bucket: 'b', key: 'm.json', manifest: true, [key]: key === 'sha256' ? 'a'.repeat(64) : 'k' },
      new RegExp(`S3Fetcher: options.${key} does not apply with options.manifest`),
    );
  }
  const file = optionChecker((o) => new FileFetcher(o));
  file({ path: 'm.json', publicKey: 'x' }, /FileFetcher: options.publicKey needs manifest: true/);
  file(
    { path: 'm.json', manifest: true, publicKey: 'x' },
    /FileFetcher: options.publicKey must be an ed25519 public key/,
  );
});

test('S3: the manifest is an object, and the version it names an object beside it, signed alike', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/bucket/releases/manifest.json') res.end(manifestOf());
    else if (req.url === '/bucket/releases/app-v2.mjs') res.end(V2);
    else res.writeHead(404).end();
  });
  try {
    const f = new S3Fetcher(
      {
        bucket: 'bucket',
        key: 'releases/manifest.json',
        endpoint: srv.url,
        region: 'eu-west-1',
        manifest: true,
      },
      { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' },
    );
    const m = asManifest(await f.fetch(signal()));
    const v = await m.open(signal());
    assert.equal((await readStream(v.stream)).toString(), V2);
    assert.deepEqual(
      srv.requests.map((r) => [r.method, r.url]),
      [
        ['GET', '/bucket/releases/manifest.json'],
        ['GET', '/bucket/releases/app-v2.mjs'],
      ],
    );
    for (const r of srv.requests)
      assert.match(String(r.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKID\//);
  } finally {
    await srv.close();
  }
});

test('File: the manifest and a version file beside it; read again on a change or when a step begins', async () => {
  const sub = fs.mkdtempSync(path.join(dir, 'file-'));
  const file = path.join(sub, 'manifest.json');
  fs.writeFileSync(path.join(sub, 'app-v2.mjs'), V2);
  const f = new FileFetcher({ path: file, manifest: true, interval: 50 });
  assert.equal(await f.fetch(signal()), null, 'no manifest yet: no update');
  fs.writeFileSync(file, manifestOf());
  const m = asManifest(await f.fetch(signal(), { immediate: true }));
  assert.equal(m.source, file);
  const v = await m.open(signal());
  assert.equal((await readStream(v.stream)).toString(), V2);
  assert.equal(v.source, path.join(sub, 'app-v2.mjs'));
  assert.equal(v.sha256, sha256(V2));
  assert.equal(v.version, 'v2');

  // A step 1.5 s ahead: the next check comes when it begins, though the file did not change.
  const at = Date.now() + 1_500;
  fs.writeFileSync(
    file,
    manifestOf({ rollout: { steps: [{ percent: 10, at: new Date(at).toISOString() }] } }),
  );
  asManifest(await f.fetch(signal(), { immediate: true }));
  assert.ok(Date.now() < at, 'read before the step begins (a machine this slow cannot tell)');
  asManifest(await f.fetch(signal()));
  assert.ok(Date.now() >= at, 'not before the step');
  assert.ok(Date.now() - at < 3_000, `${Date.now() - at} ms after the step`);

  // The named file missing, or too large, is a coded error when opened.
  fs.writeFileSync(file, manifestOf({ url: 'missing.mjs' }));
  const missing = asManifest(await f.fetch(signal(), { immediate: true }));
  await assert.rejects(missing.open(signal()), {
    code: 'ERR_OVERSEER_FETCH_FAILED',
    message: /does not exist/,
  });
  // A take that was tried (and failed, here or later in the pipeline) is tried again at the
  // next interval, as the HTTP fetchers' is, though the manifest did not change: the version
  // may be copied in after its manifest.
  fs.writeFileSync(path.join(sub, 'missing.mjs'), V2);
  const retried = asManifest(await f.fetch(AbortSignal.timeout(2_000)));
  assert.equal((await readStream((await retried.open(signal())).stream)).toString(), V2);
  // A read that took nothing waits for a change again.
  const idle = asManifest(await f.fetch(signal(), { immediate: true }));
  await assert.rejects(f.fetch(AbortSignal.timeout(300)), { name: 'TimeoutError' });
  assert.equal(idle.manifest.url, 'missing.mjs');
  const small = new FileFetcher({ path: file, manifest: true, maxBytes: 4 });
  fs.writeFileSync(file, manifestOf());
  await assert.rejects(asManifest(await small.fetch(signal())).open(signal()), {
    code: 'ERR_OVERSEER_FETCH_TOO_LARGE',
  });
  fs.writeFileSync(file, '{}');
  await assert.rejects(f.fetch(signal(), { immediate: true }), {
    code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE',
    message: `${file}: release manifest: manifest must be 1 (the format this overseer reads), got undefined`,
  });
});
