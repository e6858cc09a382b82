// GitHubFetcher against a local server that mimics the releases API, whose asset downloads
// redirect to a second "storage" server on another port (another origin).
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type GitHubAsset, GitHubFetcher, pickDefaultAsset } from '../src/fetcher/index.js';
import {
  optionChecker,
  readStream,
  sha256,
  signal,
  startServer,
  type TestServer,
  version,
} from './support/fetcher-server.js';

interface Release {
  tag: string;
  files: { name: string; id: number; body: Buffer | string }[];
}

interface GitHubMock {
  api: TestServer;
  storage: TestServer;
  release: Release;
  /** Set to answer releases/latest with a rate limit. */
  limited: boolean;
  close(): Promise<void>;
}

async function mockGitHub(release: Release): Promise<GitHubMock> {
  const storage = await startServer((req, res) => {
    const file = mock.release.files.find((f) => req.url === `/dl/${f.id}/${f.name}?X-Signature=abc`);
    if (!file) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(file.body);
  });
  const api = await startServer((req, res) => {
    if (mock.limited) {
      res.writeHead(403, {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '1900000000',
        'content-type': 'application/json',
      });
      res.end('{"message":"API rate limit exceeded"}');
      return;
    }
    if (req.url === '/repos/acme/app/releases/latest') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          tag_name: mock.release.tag,
          name: 'A release',
          assets: mock.release.files.map((f) => ({
            name: f.name,
            id: f.id,
            size: Buffer.byteLength(f.body),
            url: `${api.url}/repos/acme/app/releases/assets/${f.id}`,
            browser_download_url: `https://github.com/acme/app/releases/download/${mock.release.tag}/${f.name}`,
          })),
        }),
      );
      return;
    }
    const m = /^\/repos\/acme\/app\/releases\/assets\/(\d+)$/.exec(req.url ?? '');
    const file = m && mock.release.files.find((f) => f.id === Number(m[1]));
    if (file && req.headers.accept === 'application/octet-stream') {
      res.writeHead(302, { location: `${storage.url}/dl/${file.id}/${file.name}?X-Signature=abc` });
      res.end();
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"Not Found"}');
  });
  const mock: GitHubMock = {
    api,
    storage,
    release,
    limited: false,
    close: async () => {
      await api.close();
      await storage.close();
    },
  };
  return mock;
}

const paths = (reqs: IncomingMessage[]): string[] => reqs.map((r) => r.url ?? '');

test('downloads through the API; the token goes to the API and never to the storage host', async () => {
  const gh = await mockGitHub({
    tag: 'v1.0.0',
    files: [
      { name: 'app-windows-x64.exe', id: 10, body: 'win' },
      { name: 'app.js', id: 11, body: 'console.log(1)' },
    ],
  });
  try {
    const f = new GitHubFetcher({
      owner: 'acme',
      repo: 'app',
      asset: 'app.js',
      token: 'T0KEN',
      baseUrl: gh.api.url,
    });
    const v = version(await f.fetch(signal()));
    assert.equal((await readStream(v.stream)).toString(), 'console.log(1)');
    assert.equal(v.name, 'app.js');
    assert.equal(v.version, 'v1.0.0');
    assert.equal(v.source, 'https://github.com/acme/app/releases/download/v1.0.0/app.js');

    assert.deepEqual(paths(gh.api.requests), [
      '/repos/acme/app/releases/latest',
      '/repos/acme/app/releases/assets/11',
    ]);
    const [latest, asset] = gh.api.requests;
    assert.equal(latest?.headers.authorization, 'Bearer T0KEN');
    assert.equal(latest?.headers.accept, 'application/vnd.github+json');
    assert.equal(latest?.headers['user-agent'], 'overseer');
    assert.equal(asset?.headers.authorization, 'Bearer T0KEN');
    assert.equal(asset?.headers.accept, 'application/octet-stream');
    assert.equal(gh.storage.requests.length, 1);
    assert.equal(gh.storage.requests[0]?.headers.authorization, undefined);
  } finally {
    await gh.close();
  }
});

test('versions compare by tag and asset id, and only committed ones count', async () => {
  const gh = await mockGitHub({ tag: 'v1', files: [{ name: 'app.js', id: 1, body: 'one' }] });
  try {
    const f = new GitHubFetcher({ owner: 'acme', repo: 'app', asset: 'app.js', baseUrl: gh.api.url });
    const v1 = version(await f.fetch(signal()));
    await readStream(v1.stream);
    // Not committed: offered again.
    const again = version(await f.fetch(signal(), { immediate: true }));
    await readStream(again.stream);
    again.commit?.();
    const downloads = gh.storage.requests.length;
    assert.equal(await f.fetch(signal(), { immediate: true }), null);
    assert.equal(gh.storage.requests.length, downloads, 'no download for the same tag and id');

    // The asset re-uploaded under the same tag gets a new id.
    gh.release = { tag: 'v1', files: [{ name: 'app.js', id: 2, body: 'one, fixed' }] };
    const fixed = version(await f.fetch(signal(), { immediate: true }));
    assert.equal((await readStream(fixed.stream)).toString(), 'one, fixed');
    fixed.commit?.();
    gh.release = { tag: 'v2', files: [{ name: 'app.js', id: 2, body: 'two' }] };
    const v2 = version(await f.fetch(signal(), { immediate: true }));
    assert.equal(v2.version, 'v2');
    assert.equal((await readStream(v2.stream)).toString(), 'two');
  } finally {
    await gh.close();
  }
});

test('asset selectors: a function, a RegExp, and the default matcher for this machine', async () => {
  const own = `app-${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}.tar.gz`;
  const gh = await mockGitHub({
    tag: 'v3',
    files: [
      { name: 'SHA256SUMS', id: 1, body: 'sums' },
      { name: 'app-plan9-mips.tar.gz', id: 2, body: 'other' },
      { name: own, id: 3, body: 'mine' },
      { name: 'app.js', id: 4, body: 'portable' },
    ],
  });
  try {
    const baseUrl = gh.api.url;
    const byFn = new GitHubFetcher({ owner: 'acme', repo: 'app', baseUrl, asset: (a) => a.id === 4 });
    assert.equal((await readStream(version(await byFn.fetch(signal())).stream)).toString(), 'portable');
    const byRe = new GitHubFetcher({ owner: 'acme', repo: 'app', baseUrl, asset: /plan9/g });
    assert.equal((await readStream(version(await byRe.fetch(signal())).stream)).toString(), 'other');
    const byDefault = new GitHubFetcher({ owner: 'acme', repo: 'app', baseUrl });
    const v = version(await byDefault.fetch(signal()));
    assert.equal(v.name, own);
    assert.equal((await readStream(v.stream)).toString(), 'mine');
    await assert.rejects(
      new GitHubFetcher({ owner: 'acme', repo: 'app', baseUrl, asset: 'missing.js' }).fetch(signal()),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_OVERSEER_FETCH_BAD_RESPONSE' &&
        /no asset matching "missing\.js".*app\.js/.test(err.message),
    );
  } finally {
    await gh.close();
  }
});

test('the default matcher: platform and arch spellings, tiers, and archive preference', () => {
  let id = 0;
  const assets = (...names: string[]): GitHubAsset[] =>
    names.map((name) => ({ name, id: ++id, size: 1, url: `u/${name}`, browser_download_url: `b/${name}` }));
  const pick = (names: string[], platform: string, arch: string): string | undefined =>
    pickDefaultAsset(assets(...names), platform, arch)?.name;

  const release = [
    'checksums.txt',
    'SHA256SUMS',
    'app-linux-x64.tar.gz.sig',
    'app_Linux_x86_64.zip',
    'app-linux-amd64',
    'app-linux-x86_64.tar.gz',
    'app-linux-aarch64.tar.gz',
    'app-darwin-arm64.tar.gz',
    'app-macos-universal.gz',
    'app-windows-x64.exe',
    'app-win-ia32.exe',
    'app-linux-i686.tar.gz',
  ];
  assert.equal(pick(release, 'linux', 'x64'), 'app-linux-x86_64.tar.gz', 'an archive beats a plain file');
  assert.equal(pick(release, 'linux', 'arm64'), 'app-linux-aarch64.tar.gz');
  assert.equal(pick(release, 'linux', 'ia32'), 'app-linux-i686.tar.gz', 'x86_64 is not x86');
  assert.equal(pick(release, 'darwin', 'arm64'), 'app-darwin-arm64.tar.gz');
  assert.equal(pick(release, 'darwin', 'x64'), 'app-macos-universal.gz', 'universal serves every Mac');
  assert.equal(pick(release, 'win32', 'x64'), 'app-windows-x64.exe');
  assert.equal(pick(release, 'win32', 'ia32'), 'app-win-ia32.exe');
  assert.equal(pick(release, 'freebsd', 'x64'), undefined);
  assert.equal(pick(['app-darwin.js', 'app-linux.js'], 'darwin', 'arm64'), 'app-darwin.js', 'platform only');
  assert.equal(pick(['app.js', 'app.tgz'], 'linux', 'x64'), 'app.tgz', 'portable, archive first');
  assert.equal(
    pick(['app.js', 'app-linux-x64.js'], 'linux', 'x64'),
    'app-linux-x64.js',
    'specific beats portable',
  );
  assert.equal(pick(['app.exe', 'app.js'], 'linux', 'x64'), 'app.js', '.exe only on Windows');
  assert.equal(pick(['darwin-tool.js'], 'win32', 'x64'), undefined, '"win" is not in "darwin"');
});

test('checksum and signature assets are fetched, through the same redirects', async () => {
  const gz = gzipSync('gz program');
  const plain = Buffer.from('plain program');
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const sig = sign(null, plain, privateKey);
  const gh = await mockGitHub({
    tag: 'v4',
    files: [
      { name: 'app.js', id: 1, body: plain },
      { name: 'app.js.gz', id: 2, body: gz },
      { name: 'SHA256SUMS', id: 3, body: `${sha256(plain)}  app.js\n${sha256(gz)}  app.js.gz\n` },
      { name: 'app.js.sig', id: 4, body: sig.toString('base64') },
      { name: 'app.js.gz.sig', id: 5, body: sign(null, gz, privateKey) },
    ],
  });
  try {
    const common = {
      owner: 'acme',
      repo: 'app',
      baseUrl: gh.api.url,
      checksumAsset: 'SHA256SUMS',
      signatureAsset: '{name}.sig',
      publicKey,
    };
    const v = version(await new GitHubFetcher({ ...common, asset: 'app.js' }).fetch(signal()));
    assert.equal(v.sha256, sha256(plain));
    assert.deepEqual(v.signature, sig);
    assert.equal(v.publicKey, publicKey.export({ type: 'spki', format: 'pem' }).toString());
    assert.deepEqual(await readStream(v.stream), plain);
    // A .gz is gunzipped and checked here against the compressed bytes.
    const g = version(await new GitHubFetcher({ ...common, asset: 'app.js.gz' }).fetch(signal()));
    assert.equal(g.name, 'app.js');
    assert.equal(g.sha256, undefined);
    assert.equal((await readStream(g.stream)).toString(), 'gz program');
    await assert.rejects(
      new GitHubFetcher({ ...common, asset: 'app.js', signatureAsset: (a) => a.name === 'none' }).fetch(
        signal(),
      ),
      (err: Error & { code?: string }) =>
        err.code === 'ERR_OVERSEER_FETCH_BAD_RESPONSE' && /signatureAsset/.test(err.message),
    );
  } finally {
    await gh.close();
  }
});

test('an asset larger than maxBytes is refused from the release listing, before any download', async () => {
  const gh = await mockGitHub({ tag: 'v2', files: [{ name: 'app.js', id: 21, body: 'x'.repeat(5000) }] });
  try {
    const f = new GitHubFetcher({
      owner: 'acme',
      repo: 'app',
      asset: 'app.js',
      baseUrl: gh.api.url,
      maxBytes: 4096,
    });
    await assert.rejects(f.fetch(signal()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_OVERSEER_FETCH_TOO_LARGE');
      assert.match(err.message, /app\.js of v2 is 5000 bytes, over maxBytes \(4096\)/);
      return true;
    });
    assert.deepEqual(paths(gh.api.requests), ['/repos/acme/app/releases/latest']);
    assert.equal(gh.storage.requests.length, 0);
  } finally {
    await gh.close();
  }
});

test('a rate limit is a coded error with the reset time; other API errors carry the status', async () => {
  const gh = await mockGitHub({ tag: 'v1', files: [{ name: 'app.js', id: 1, body: 'x' }] });
  try {
    gh.limited = true;
    await assert.rejects(
      new GitHubFetcher({ owner: 'acme', repo: 'app', asset: 'app.js', baseUrl: gh.api.url }).fetch(signal()),
      (err: Error & { code?: string; status?: number; resetAt?: Date }) => {
        assert.equal(err.code, 'ERR_OVERSEER_FETCH_RATE_LIMITED');
        assert.equal(err.status, 403);
        assert.equal(err.resetAt?.toISOString(), new Date(1_900_000_000_000).toISOString());
        assert.match(err.message, /rate limited until 2030-03-17T/);
        return true;
      },
    );
    gh.limited = false;
    await assert.rejects(
      new GitHubFetcher({ owner: 'acme', repo: 'nope', baseUrl: gh.api.url }).fetch(signal()),
      (err: Error & { code?: string; status?: number }) =>
        err.code === 'ERR_OVERSEER_FETCH_HTTP' && err.status === 404,
    );
  } finally {
    await gh.close();
  }
});

test('options are validated', () => {
  const bad = optionChecker((o) => new GitHubFetcher(o));
  const { publicKey } = generateKeyPairSync('ed25519');
  bad({ repo: 'app' }, /^GitHubFetcher: options\.owner must be a non-empty string/);
  bad({ owner: 'acme' }, /options\.repo must be a non-empty string/);
  bad({ owner: 'acme', repo: 'acme/app' }, /options\.repo must be a single name/);
  bad(
    { owner: 'acme', repo: 'app', asset: 42 },
    /options\.asset must be an asset name, a RegExp or a function/,
  );
  bad({ owner: 'acme', repo: 'app', token: '' }, /options\.token/);
  bad({ owner: 'acme', repo: 'app', baseUrl: 'api.github.com' }, /options\.baseUrl/);
  bad({ owner: 'acme', repo: 'app', timeout: Number.NaN }, /options\.timeout/);
  bad({ owner: 'acme', repo: 'app', signatureAsset: '{name}.sig' }, /options\.publicKey is needed/);
  bad({ owner: 'acme', repo: 'app', publicKey }, /options\.signatureAsset is needed/);
  bad({ owner: 'acme', repo: 'app', tag: 'v1' }, /options\.tag is not a known option/);
  const f = new GitHubFetcher({ owner: 'acme', repo: 'app' });
  assert.equal(f.baseUrl.href, 'https://api.github.com/');
  assert.equal(f.interval, 300_000);
  assert.equal(f.timeout, 30_000);
});

test('manifest mode: manifest.json of the latest release, read again only when re-uploaded; the version an asset beside it', async () => {
  const v2 = 'console.log("v2")';
  const manifest = (percent: number): string =>
    JSON.stringify({
      manifest: 1,
      version: 'v2.0.0',
      url: 'app.js',
      sha256: sha256(v2),
      rollout: { percent },
    });
  const gh = await mockGitHub({
    tag: 'v2.0.0',
    files: [
      { name: 'app.js', id: 21, body: v2 },
      { name: 'manifest.json', id: 22, body: manifest(10) },
    ],
  });
  try {
    const repo = { owner: 'acme', repo: 'app', baseUrl: gh.api.url };
    const f = new GitHubFetcher({ ...repo, token: 'T0KEN', manifest: true });
    const m = await f.fetch(signal());
    assert.deepEqual(m?.manifest.rollout, { percent: 10 });
    assert.equal(m?.source, 'https://github.com/acme/app/releases/download/v2.0.0/manifest.json');
    const v = await m!.open(signal());
    assert.equal((await readStream(v.stream)).toString(), v2);
    assert.equal(v.name, 'app.js');
    assert.equal(v.version, 'v2.0.0');
    assert.equal(v.sha256, sha256(v2));
    assert.deepEqual(paths(gh.api.requests), [
      '/repos/acme/app/releases/latest',
      '/repos/acme/app/releases/assets/22',
      '/repos/acme/app/releases/assets/21',
    ]);
    // The same manifest asset is not downloaded again; a re-uploaded one (a new id) is.
    assert.deepEqual((await f.fetch(signal(), { immediate: true }))?.manifest.rollout, { percent: 10 });
    assert.equal(paths(gh.api.requests).at(-1), '/repos/acme/app/releases/latest');
    gh.release.files[1] = { name: 'manifest.json', id: 23, body: manifest(50) };
    assert.deepEqual((await f.fetch(signal(), { immediate: true }))?.manifest.rollout, { percent: 50 });
    // A url that is neither an asset nor an absolute URL is a coded error when opened.
    gh.release.files[1] = {
      name: 'manifest.json',
      id: 24,
      body: JSON.stringify({ manifest: 1, version: 'v2.0.0', url: 'nope.js', sha256: sha256(v2) }),
    };
    const bad = await f.fetch(signal(), { immediate: true });
    await assert.rejects(bad!.open(signal()), {
      code: 'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      message: /url "nope.js" is neither an asset of the release nor an absolute http\(s\) URL/,
    });
    const invalid = optionChecker((o) => new GitHubFetcher(o));
    invalid(
      { owner: 'acme', repo: 'app', manifest: true, checksumAsset: 'SHA256SUMS' },
      /GitHubFetcher: options.checksumAsset does not apply with options.manifest/,
    );
  } finally {
    await gh.close();
  }
});
