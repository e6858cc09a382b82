// HTTPFetcher against real HTTP servers on 127.0.0.1: validators, the content-hash
// fallback, gzip, integrity data, and every way a download can go wrong.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { HTTPFetcher } from '../src/fetcher/index.js';
import {
  optionChecker,
  readStream,
  resources,
  sha256,
  signal,
  startServer,
  streamError,
  text,
  tick,
  version,
} from './support/fetcher-server.js';

/** A file server with an ETag; `file.body` can be swapped between fetches. */
function fileHandler(file: { body: Buffer | string; etag?: string }) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const headers: Record<string, string> = { 'content-length': String(Buffer.byteLength(file.body)) };
    if (file.etag) headers.etag = file.etag;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}

function expectCode(code: string, extra?: (err: Error & { code?: string; status?: number }) => void) {
  return (err: Error & { code?: string; status?: number }): boolean => {
    assert.equal(err.code, code, err.message);
    extra?.(err);
    return true;
  };
}

test('HEAD with an ETag: new → stream; committed → null; not committed → offered again', async () => {
  const file = { body: 'one', etag: '"v1"' };
  const srv = await startServer(fileHandler(file));
  try {
    const f = new HTTPFetcher({ url: `${srv.url}/app.js` });
    const v1 = version(await f.fetch(signal()));
    assert.equal(await text(v1), 'one');
    assert.equal(v1.name, 'app.js');
    assert.equal(v1.version, '"v1"');
    assert.equal(v1.source, `${srv.url}/app.js`);
    v1.commit?.();
    const gets = (): number => srv.requests.filter((r) => r.method === 'GET').length;
    const before = gets();
    assert.equal(await f.fetch(signal(), { immediate: true }), null);
    assert.equal(gets(), before, 'an unchanged ETag costs a HEAD only');
    assert.equal(srv.requests.at(-1)?.method, 'HEAD');

    file.body = 'two';
    file.etag = '"v2"';
    assert.equal(await text(await f.fetch(signal(), { immediate: true })), 'two');
    // Not committed: the master's staging failed, so it is offered again.
    const again = version(await f.fetch(signal(), { immediate: true }));
    assert.equal(await text(again), 'two');
    again.commit?.();
    assert.equal(await f.fetch(signal(), { immediate: true }), null);
  } finally {
    await srv.close();
  }
});

test('checks wait `interval` after the previous one (not the first, not an immediate one), abortably', async () => {
  const srv = await startServer(fileHandler({ body: 'x', etag: '"x"' }));
  try {
    const f = new HTTPFetcher({ url: `${srv.url}/app.js`, interval: 300 });
    let t = Date.now();
    version(await f.fetch(signal())).commit?.();
    assert.ok(Date.now() - t < 250, 'the first check does not wait');
    // The next one comes `interval` (±10 %: at least 270 ms) after the first one began.
    assert.equal(await f.fetch(signal()), null);
    assert.ok(Date.now() - t >= 260, `came ${Date.now() - t} ms after the first began`);
    t = Date.now();
    assert.equal(await f.fetch(signal(), { immediate: true }), null);
    assert.ok(Date.now() - t < 250, 'immediate does not wait');

    const before = resources();
    const ac = new AbortController();
    const reason = new Error('trigger-update');
    const pending = f.fetch(ac.signal);
    await tick(50);
    ac.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    await tick(10);
    assert.equal(resources().Timeout ?? 0, before.Timeout ?? 0);
  } finally {
    await srv.close();
  }
});

test('no validators: the GET body streams to the master, which compares it by content', async () => {
  const file = { body: 'alpha' };
  const srv = await startServer((req, res) => {
    res.writeHead(200); // no ETag, no Last-Modified; chunked, so no Content-Length either
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  try {
    const f = new HTTPFetcher({ url: `${srv.url}/app.js` });
    const v = version(await f.fetch(signal()));
    assert.equal(await text(v), 'alpha');
    assert.equal(v.version, undefined, 'nothing names it before its bytes are read');
    assert.equal(v.commit, undefined, 'nothing to remember: the master compares the content');
    // Every check offers the body again; the master's staging finds it identical and stops there.
    assert.equal(await text(await f.fetch(signal(), { immediate: true })), 'alpha');
    assert.equal(srv.requests.at(-1)?.method, 'GET');
    file.body = 'beta';
    assert.equal(await text(await f.fetch(signal(), { immediate: true })), 'beta');
  } finally {
    await srv.close();
  }
});

test('no validators: fetch() answers before the body has arrived, so nothing is held in memory', async () => {
  let finish: (() => void) | undefined;
  const srv = await startServer((req, res) => {
    res.writeHead(200);
    if (req.method === 'HEAD') return void res.end();
    res.write(Buffer.alloc(1 << 20, 1)); // the first MiB, then the rest only when told
    finish = () => res.end(Buffer.alloc(1 << 20, 2));
  });
  try {
    const v = version(await new HTTPFetcher({ url: `${srv.url}/app.js` }).fetch(signal()));
    assert.ok(finish, 'the GET was answered');
    finish();
    assert.equal((await readStream(v.stream)).length, 2 << 20);
  } finally {
    await srv.close();
  }
});

test('a server that refuses HEAD (405) is compared by content', async () => {
  const srv = await startServer((req, res) => {
    if (req.method === 'HEAD') {
      res.writeHead(405, { allow: 'GET' });
      res.end();
      return;
    }
    res.end('content');
  });
  try {
    const f = new HTTPFetcher({ url: `${srv.url}/app.js` });
    const v = version(await f.fetch(signal()));
    assert.equal(await text(v), 'content');
    assert.equal(srv.requests.at(-1)?.method, 'GET');
  } finally {
    await srv.close();
  }
});

test('a .gz is gunzipped; a .tar.gz is left for the master to extract', async () => {
  const gz = gzipSync('console.log("hi")');
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-length': String(gz.length), etag: '"gz"' });
    res.end(req.method === 'HEAD' ? undefined : gz);
  });
  try {
    const plain = version(await new HTTPFetcher({ url: `${srv.url}/app.js.gz` }).fetch(signal()));
    assert.equal(plain.name, 'app.js');
    assert.equal(await text(plain), 'console.log("hi")');
    const archive = version(await new HTTPFetcher({ url: `${srv.url}/app-v2.tar.gz` }).fetch(signal()));
    assert.equal(archive.name, 'app-v2.tar.gz');
    assert.deepEqual(await readStream(archive.stream), gz);
  } finally {
    await srv.close();
  }
});

test('a .gz that is not gzip, or is cut short, is a coded error that names it', async () => {
  const gz = gzipSync('console.log("hi")'.repeat(100));
  const bodies: Record<string, Buffer> = {
    '/text.js.gz': Buffer.from('not gzip at all'),
    '/short.js.gz': gz.subarray(0, gz.length - 10),
  };
  const srv = await startServer((req, res) => {
    const body = bodies[req.url ?? ''] ?? Buffer.alloc(0);
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  try {
    for (const name of Object.keys(bodies)) {
      const v = version(
        await new HTTPFetcher({ url: `${srv.url}${name}`, checkHeaders: [] }).fetch(signal()),
      );
      const err = await streamError(v.stream);
      assert.equal(err.code, 'ERR_OVERSEER_FETCH_BAD_RESPONSE', `${name}: ${err.message}`);
      assert.ok(err.message.includes(`${srv.url}${name}`), err.message);
      assert.match(err.message, /gzip/);
    }
  } finally {
    await srv.close();
  }
});

test('a compressed file is asked for as it is published (accept-encoding: identity), so its checksum holds', async () => {
  const gz = gzipSync('console.log("hi")');
  const asked: Record<string, string | undefined> = {};
  const srv = await startServer((req, res) => {
    asked[req.url ?? ''] = req.headers['accept-encoding'] as string | undefined;
    // A server that serves .gz files as gzip-encoded to clients that take gzip (nginx's gzip_static).
    const encoded = req.headers['accept-encoding']?.includes('gzip') && req.url !== '/plain.js';
    res.writeHead(200, {
      'content-length': String(gz.length),
      ...(encoded ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : req.url === '/plain.js' ? 'plain' : gz);
  });
  try {
    const plain = version(
      await new HTTPFetcher({ url: `${srv.url}/app.js.gz`, sha256: sha256(gz), checkHeaders: [] }).fetch(
        signal(),
      ),
    );
    assert.equal(await text(plain), 'console.log("hi")');
    const archive = version(
      await new HTTPFetcher({ url: `${srv.url}/app.tgz`, checkHeaders: [] }).fetch(signal()),
    );
    assert.deepEqual(await readStream(archive.stream), gz, 'the archive as published');
    assert.equal(asked['/app.js.gz'], 'identity');
    assert.equal(asked['/app.tgz'], 'identity');
  } finally {
    await srv.close();
  }
});

test('HTTP 500 rejects with a coded error carrying the status', async () => {
  let failGet = false;
  const srv = await startServer((req, res) => {
    if (req.method === 'HEAD' && !failGet) {
      res.writeHead(500);
      res.end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { etag: '"e"' });
      res.end();
      return;
    }
    res.writeHead(503);
    res.end('down');
  });
  try {
    const f = new HTTPFetcher({ url: `${srv.url}/app.js` });
    await assert.rejects(
      f.fetch(signal()),
      expectCode('ERR_OVERSEER_FETCH_HTTP', (err) => {
        assert.equal(err.status, 500);
        assert.match(err.message, /HTTPFetcher: HEAD http:\/\/127\.0\.0\.1:\d+\/app\.js answered 500/);
      }),
    );
    failGet = true;
    await assert.rejects(
      f.fetch(signal(), { immediate: true }),
      expectCode('ERR_OVERSEER_FETCH_HTTP', (err) => assert.equal(err.status, 503)),
    );
  } finally {
    await srv.close();
  }
});

test('a connection reset mid-body errors the stream', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-length': String(1 << 20), etag: '"big"' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.write(Buffer.alloc(64 * 1024, 1));
    setTimeout(() => req.socket.resetAndDestroy(), 50);
  });
  try {
    const v = version(await new HTTPFetcher({ url: `${srv.url}/app.js` }).fetch(signal()));
    const err = await streamError(v.stream);
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_FAILED', err.message);
    assert.match(err.message, /broke off after \d+ bytes/);
  } finally {
    await srv.close();
  }
});

test('a truncated body (fewer bytes than Content-Length) errors the stream', async () => {
  const srv = await startServer((req, res) => {
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': '1000', etag: '"t"' });
      res.end();
      return;
    }
    req.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: "t"\r\n\r\nonly a hundred bytes or so');
  });
  try {
    const v = version(await new HTTPFetcher({ url: `${srv.url}/app.js` }).fetch(signal()));
    const err = await streamError(v.stream);
    // The server closed the connection early (no reset): the registry's word for that.
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_TRUNCATED', err.message);
    assert.match(err.message, /got \d+ of 1000 bytes \(Content-Length\)/);
  } finally {
    await srv.close();
  }
});

test('a server that stalls past the timeout: no answer rejects, a stalled body errors', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/silent.js') return; // never answers
    res.writeHead(200, { 'content-length': '100', etag: '"s"' });
    if (req.method === 'HEAD') res.end();
    else res.write('a few bytes, then nothing');
  });
  try {
    let t = Date.now();
    await assert.rejects(
      new HTTPFetcher({ url: `${srv.url}/silent.js`, timeout: 300 }).fetch(signal()),
      expectCode('ERR_OVERSEER_FETCH_TIMEOUT', (err) => assert.match(err.message, /no answer within 300 ms/)),
    );
    let took = Date.now() - t;
    assert.ok(took >= 280 && took < 1500, `took ${took} ms`);

    const v = version(await new HTTPFetcher({ url: `${srv.url}/stall.js`, timeout: 300 }).fetch(signal()));
    t = Date.now();
    const err = await streamError(v.stream);
    took = Date.now() - t;
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_TIMEOUT', err.message);
    assert.ok(took >= 280 && took < 1500, `took ${took} ms`);
  } finally {
    await srv.close();
  }
});

test('maxBytes: a larger Content-Length is refused before the body, a larger body as it crosses', async () => {
  const big = Buffer.alloc(2 << 20, 7);
  const srv = await startServer((req, res) => {
    if (req.url === '/declared.js') res.writeHead(200, { 'content-length': String(big.length), etag: '"d"' });
    else res.writeHead(200, { etag: '"c"' }); // chunked: no length to go by
    res.end(req.method === 'HEAD' ? undefined : big);
  });
  try {
    const maxBytes = 1 << 20;
    await assert.rejects(
      new HTTPFetcher({ url: `${srv.url}/declared.js`, maxBytes }).fetch(signal()),
      expectCode('ERR_OVERSEER_FETCH_TOO_LARGE', (err) =>
        assert.match(err.message, /2097152 bytes, over maxBytes/),
      ),
    );
    const v = version(await new HTTPFetcher({ url: `${srv.url}/chunked.js`, maxBytes }).fetch(signal()));
    let seen = 0;
    v.stream.on('data', (d: Buffer) => {
      seen += d.length;
    });
    const err = await streamError(v.stream);
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_TOO_LARGE', err.message);
    assert.ok(seen <= maxBytes, `${seen} bytes passed the bound`);
  } finally {
    await srv.close();
  }
});

test('maxBytes holds for a .gz once gunzipped: a gzip bomb stops at the bound', async () => {
  const bomb = gzipSync(Buffer.alloc(64 << 20)); // 64 MiB of zeros in about 64 KiB
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-length': String(bomb.length), etag: '"b"' });
    res.end(req.method === 'HEAD' ? undefined : bomb);
  });
  try {
    assert.ok(bomb.length < 1 << 20);
    const v = version(
      await new HTTPFetcher({ url: `${srv.url}/app.js.gz`, maxBytes: 1 << 20 }).fetch(signal()),
    );
    const err = await streamError(v.stream);
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_TOO_LARGE', err.message);
    assert.match(err.message, /gunzipped/);
  } finally {
    await srv.close();
  }
});

test('a body trickled slower than minBytesPerSecond fails within about two windows of timeout', async () => {
  const timers: NodeJS.Timeout[] = [];
  const srv = await startServer((req, res) => {
    res.writeHead(200, { etag: '"t"' });
    if (req.method === 'HEAD') return void res.end();
    res.write('x');
    const t = setInterval(() => res.write('x'), 20); // 50 bytes/s, never a stall
    timers.push(t);
    res.on('close', () => clearInterval(t));
  });
  try {
    const f = new HTTPFetcher({ url: `${srv.url}/app.js`, timeout: 300, minBytesPerSecond: 1024 });
    const v = version(await f.fetch(signal()));
    const t0 = Date.now();
    const err = await streamError(v.stream);
    const took = Date.now() - t0;
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_TOO_SLOW', err.message);
    assert.match(err.message, /bytes\/s over 300 ms is under minBytesPerSecond \(1024\)/);
    assert.ok(took >= 250 && took < 1_500, `took ${took} ms`);
  } finally {
    for (const t of timers) clearInterval(t);
    await srv.close();
  }
});

test('deadline bounds a whole download that is fast enough but never ends', async () => {
  const timers: NodeJS.Timeout[] = [];
  const srv = await startServer((req, res) => {
    res.writeHead(200, { etag: '"e"' });
    if (req.method === 'HEAD') return void res.end();
    const t = setInterval(() => res.write(Buffer.alloc(16 * 1024)), 10);
    timers.push(t);
    res.on('close', () => clearInterval(t));
  });
  try {
    const v = version(await new HTTPFetcher({ url: `${srv.url}/app.js`, deadline: 400 }).fetch(signal()));
    const t0 = Date.now();
    const err = await streamError(v.stream);
    const took = Date.now() - t0;
    assert.equal(err.code, 'ERR_OVERSEER_FETCH_TIMEOUT', err.message);
    assert.match(err.message, /not finished within the 400 ms deadline/);
    assert.ok(took < 1_500, `took ${took} ms`);
  } finally {
    for (const t of timers) clearInterval(t);
    await srv.close();
  }
});

test('abort while waiting for an answer rejects with the reason', async () => {
  const srv = await startServer(() => {});
  try {
    const ac = new AbortController();
    const reason = new Error('shutdown');
    const pending = new HTTPFetcher({ url: `${srv.url}/app.js` }).fetch(ac.signal);
    await tick(50);
    const t = Date.now();
    ac.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    assert.ok(Date.now() - t < 200);
  } finally {
    await srv.close();
  }
});

test('sha256Url: a SHA256SUMS listing and a .sha256 file', async () => {
  const body = 'program bytes';
  const hash = sha256(body);
  const other = sha256('other');
  const srv = await startServer((req, res) => {
    if (req.url === '/SHA256SUMS') res.end(`${other}  other.js\n${hash}  app.js\n${other} *app.js.map\n`);
    else if (req.url === '/app.js.sha256') res.end(`${hash}\n`);
    else if (req.url === '/BSD')
      res.end(`SHA256 (other.js) = ${other}\nSHA256 (app.js) = ${hash.toUpperCase()}\n`);
    else if (req.url === '/WRONG') res.end(`${other}  other.js\n${other}  more.js\n`);
    else fileHandler({ body, etag: '"p"' })(req, res);
  });
  try {
    for (const sums of ['SHA256SUMS', 'app.js.sha256', 'BSD']) {
      const f = new HTTPFetcher({ url: `${srv.url}/app.js`, sha256Url: `${srv.url}/${sums}` });
      const v = version(await f.fetch(signal()));
      assert.equal(v.sha256, hash, sums);
      assert.equal(await text(v), body);
    }
    await assert.rejects(
      new HTTPFetcher({ url: `${srv.url}/app.js`, sha256Url: `${srv.url}/WRONG` }).fetch(signal()),
      expectCode('ERR_OVERSEER_FETCH_BAD_RESPONSE', (err) =>
        assert.match(err.message, /no checksum for app\.js/),
      ),
    );
    const pinned = version(
      await new HTTPFetcher({ url: `${srv.url}/app.js`, sha256: hash.toUpperCase() }).fetch(signal()),
    );
    assert.equal(pinned.sha256, hash);
    await readStream(pinned.stream);
  } finally {
    await srv.close();
  }
});

test('signatureUrl: raw and base64 signatures are fetched for the master with the key', async () => {
  const body = Buffer.from('signed program');
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const signature = sign(null, body, privateKey);
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const srv = await startServer((req, res) => {
    if (req.url === '/app.js.sig') res.end(signature);
    else if (req.url === '/app.js.sig.b64') res.end(`${signature.toString('base64')}\n`);
    else if (req.url === '/bad.sig') res.end('not a signature');
    else fileHandler({ body, etag: '"s"' })(req, res);
  });
  try {
    for (const sig of ['app.js.sig', 'app.js.sig.b64']) {
      const f = new HTTPFetcher({ url: `${srv.url}/app.js`, signatureUrl: `${srv.url}/${sig}`, publicKey });
      const v = version(await f.fetch(signal()));
      assert.deepEqual(v.signature, signature);
      assert.equal(v.publicKey, pem);
      await readStream(v.stream);
    }
    await assert.rejects(
      new HTTPFetcher({ url: `${srv.url}/app.js`, signatureUrl: `${srv.url}/bad.sig`, publicKey: pem }).fetch(
        signal(),
      ),
      expectCode('ERR_OVERSEER_FETCH_BAD_RESPONSE'),
    );
  } finally {
    await srv.close();
  }
});

test('a gunzipped .gz is verified here, against the compressed bytes its checksum and signature cover', async () => {
  const gz = gzipSync('the program');
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const srv = await startServer((req, res) => {
    if (req.url === '/SHA256SUMS') res.end(`${sha256(gz)}  app.js.gz\n`);
    else if (req.url === '/BADSUMS') res.end(`${sha256('nope')}  app.js.gz\n`);
    else if (req.url === '/app.js.gz.sig') res.end(sign(null, gz, privateKey));
    else if (req.url === '/bad.sig') res.end(sign(null, Buffer.from('other'), privateKey));
    else fileHandler({ body: gz, etag: '"gz"' })(req, res);
  });
  try {
    const url = `${srv.url}/app.js.gz`;
    const good = version(
      await new HTTPFetcher({
        url,
        sha256Url: `${srv.url}/SHA256SUMS`,
        signatureUrl: `${srv.url}/app.js.gz.sig`,
        publicKey,
      }).fetch(signal()),
    );
    assert.equal(good.sha256, undefined, 'already checked; the master sees other bytes');
    assert.equal(good.signature, undefined);
    assert.equal(await text(good), 'the program');

    const badSum = version(await new HTTPFetcher({ url, sha256Url: `${srv.url}/BADSUMS` }).fetch(signal()));
    // The same codes as when the master checks a staged file: how it was shipped does not matter.
    assert.equal((await streamError(badSum.stream)).code, 'ERR_OVERSEER_CHECKSUM');
    const badSig = version(
      await new HTTPFetcher({ url, signatureUrl: `${srv.url}/bad.sig`, publicKey }).fetch(signal()),
    );
    assert.equal((await streamError(badSig.stream)).code, 'ERR_OVERSEER_SIGNATURE');
  } finally {
    await srv.close();
  }
});

test("the fetcher's headers are sent to its origin, and none of them follows a redirect to another", async () => {
  const storage = await startServer((_req, res) => res.end('stored'));
  const origin = await startServer((req, res) => {
    if (req.url === '/same') {
      res.writeHead(302, { location: '/app.js' });
      res.end();
    } else if (req.url === '/away') {
      res.writeHead(302, { location: `${storage.url}/app.js` });
      res.end();
    } else fileHandler({ body: 'here', etag: '"h"' })(req, res);
  });
  try {
    const headers = { Authorization: 'Bearer secret', 'X-Extra': 'yes', 'X-Api-Key': 'key', Cookie: 'c=1' };
    assert.equal(
      await text(await new HTTPFetcher({ url: `${origin.url}/same`, headers }).fetch(signal())),
      'here',
    );
    assert.ok(
      origin.requests.every(
        (r) => r.headers.authorization === 'Bearer secret' && r.headers['x-extra'] === 'yes',
      ),
    );
    const v = await new HTTPFetcher({ url: `${origin.url}/away`, headers, checkHeaders: [] }).fetch(signal());
    assert.equal(await text(v), 'stored');
    assert.ok(storage.requests.length > 0);
    // An API key is as much a credential as an Authorization: the other origin gets none of them.
    for (const r of storage.requests) {
      for (const name of ['authorization', 'x-extra', 'x-api-key', 'cookie']) {
        assert.equal(r.headers[name], undefined, `${name} reached the other origin`);
      }
    }
  } finally {
    await origin.close();
    await storage.close();
  }
});

test('a refused connection is a coded error', async () => {
  const srv = await startServer(() => {});
  const url = `${srv.url}/app.js`;
  await srv.close();
  await assert.rejects(new HTTPFetcher({ url }).fetch(signal()), expectCode('ERR_OVERSEER_FETCH_FAILED'));
});

test('options are validated', () => {
  const bad = optionChecker((o) => new HTTPFetcher(o));
  const url = 'http://127.0.0.1:1/app.js';
  const { publicKey } = generateKeyPairSync('ed25519');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
  bad({}, /^HTTPFetcher: options\.url must be/);
  bad({ url: 'not a url' }, /options\.url must be an absolute http\(s\) URL/);
  bad({ url: 'ftp://x/y' }, /options\.url must use http: or https:/);
  bad({ url, timeout: 0 }, /options\.timeout/);
  bad({ url, interval: -1 }, /options\.interval/);
  bad({ url, checkHeaders: 'etag' }, /options\.checkHeaders/);
  bad({ url, headers: { a: 1 } }, /options\.headers\.a must be a string/);
  bad({ url, headers: { 'bad name': 'v' } }, /options\.headers\.bad name is not a valid header name/);
  bad({ url, headers: { a: 'x\r\nInjected: 1' } }, /options\.headers\.a must not hold CR, LF or NUL/);
  bad({ url, sha256: 'abc' }, /options\.sha256 must be a sha256/);
  bad({ url, sha256: 'a'.repeat(64), sha256Url: url }, /options\.sha256 and options\.sha256Url/);
  bad({ url, signatureUrl: url }, /options\.publicKey is needed/);
  bad({ url, publicKey }, /options\.signatureUrl is needed/);
  bad({ url, signatureUrl: url, publicKey: rsa }, /options\.publicKey must be an ed25519 public key/);
  bad({ url, signatureUrl: url, publicKey: 'garbage' }, /options\.publicKey/);
  bad({ url, etag: true }, /options\.etag is not a known option/);
  bad({ url, maxBytes: 0 }, /options\.maxBytes must be an integer from 1 to/);
  bad({ url, maxBytes: 1.5 }, /options\.maxBytes/);
  bad({ url, minBytesPerSecond: -1 }, /options\.minBytesPerSecond/);
  bad({ url, deadline: 0 }, /options\.deadline/);
  const f = new HTTPFetcher({ url: new URL(url) });
  assert.equal(f.interval, 300_000);
  assert.equal(f.timeout, 30_000);
  assert.deepEqual(f.checkHeaders, ['etag', 'last-modified', 'content-length']);
  assert.deepEqual(f.limits, { maxBytes: 1024 ** 3, minBytesPerSecond: 1024, deadline: undefined });
});
