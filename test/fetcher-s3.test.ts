// S3Fetcher: requests signed with SigV4 (through aws4), checked by an independent verifier
// that first reproduces AWS's published signatures; the ETag as the validator; credentials
// from the options or the environment; a bad signature is the server's 403, not an update.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import aws4 from 'aws4';
import { type FetchedVersion, S3Fetcher } from '../src/fetcher/index.js';
import { readStream, signal, startServer } from './support/fetcher-server.js';
import { signature, verify } from './support/sigv4.js';

const EMPTY = createHash('sha256').update('').digest('hex');

test("the verifier reproduces AWS's published SigV4 signatures (get-vanilla, and S3's GET Object example)", () => {
  assert.equal(
    signature(
      'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      '20150830T123600Z',
      { date: '20150830', region: 'us-east-1', service: 'service' },
      {
        method: 'GET',
        path: '/',
        query: '',
        headers: { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' },
        payloadHash: EMPTY,
      },
      ['host', 'x-amz-date'],
    ),
    '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  );
  const s3Example = {
    method: 'GET',
    path: '/test.txt',
    query: '',
    headers: {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY,
      'x-amz-date': '20130524T000000Z',
    },
    payloadHash: EMPTY,
  };
  const published = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
  assert.equal(
    signature(
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '20130524T000000Z',
      { date: '20130524', region: 'us-east-1', service: 's3' },
      s3Example,
      ['host', 'range', 'x-amz-content-sha256', 'x-amz-date'],
    ),
    published,
  );
  // And aws4, as S3Fetcher uses it, signs that request so that the verifier (itself right by
  // the vectors above) accepts it. (aws4 leaves Range out of what it signs, which S3 allows.)
  const signed = aws4.sign(
    {
      host: 'examplebucket.s3.amazonaws.com',
      path: '/test.txt',
      method: 'GET',
      service: 's3',
      region: 'us-east-1',
      headers: { Range: 'bytes=0-9', 'X-Amz-Date': '20130524T000000Z', 'X-Amz-Content-Sha256': EMPTY },
    },
    { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  );
  assert.equal(
    verify(
      String(signed.headers?.Authorization),
      s3Example,
      'AKIAIOSFODNN7EXAMPLE',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ),
    undefined,
  );
  assert.equal(
    verify(String(signed.headers?.Authorization), s3Example, 'AKIAIOSFODNN7EXAMPLE', 'another secret'),
    'the signature does not match',
  );
});

const KEY = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local/secret+KEY' };

/** A bucket on a local server that refuses what is not signed right, as S3 does (403). */
function bucket(objects: Map<string, string>, refusals: string[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://x');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const why = verify(
      headers.authorization,
      {
        method: req.method ?? '',
        path: url.pathname,
        query: url.search.slice(1),
        headers,
        payloadHash: headers['x-amz-content-sha256'] ?? '',
      },
      KEY.accessKeyId,
      KEY.secretAccessKey,
    );
    if (why !== undefined) {
      refusals.push(why);
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end('<Error><Code>SignatureDoesNotMatch</Code></Error>');
      return;
    }
    const body = objects.get(decodeURIComponent(url.pathname));
    if (body === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, {
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

test('signed HEAD and GET against a verifying server; the ETag decides; a key with spaces and slashes', async () => {
  const objects = new Map([['/releases/my app/v1.js', 'one']]);
  const refusals: string[] = [];
  const srv = await startServer(bucket(objects, refusals));
  try {
    const f = new S3Fetcher({
      bucket: 'releases',
      key: 'my app/v1.js',
      endpoint: srv.url,
      credentials: KEY,
      region: 'eu-west-1',
    });
    assert.equal(f.url.href, `${srv.url}/releases/my%20app/v1.js`);
    const v1 = (await f.fetch(signal())) as FetchedVersion;
    assert.deepEqual(refusals, []);
    assert.equal((await readStream(v1.stream)).toString(), 'one');
    assert.equal(v1.version, `"${createHash('md5').update('one').digest('hex')}"`);
    v1.commit?.();
    assert.equal(await f.fetch(signal(), { immediate: true }), null, 'the same ETag: no update');
    objects.set('/releases/my app/v1.js', 'two');
    const v2 = (await f.fetch(signal(), { immediate: true })) as FetchedVersion;
    assert.equal((await readStream(v2.stream)).toString(), 'two');
    const methods = srv.requests.map((r) => r.method);
    assert.deepEqual(methods, ['HEAD', 'GET', 'HEAD', 'HEAD', 'GET']);
    assert.ok(
      srv.requests.every((r) => String(r.headers.authorization).includes('/eu-west-1/s3/aws4_request')),
    );
    assert.deepEqual(refusals, [], 'every request was signed right');
  } finally {
    await srv.close();
  }
});

test('credentials from the environment; wrong ones are a 403 (ERR_OVERSEER_FETCH_HTTP), never an update', async () => {
  const objects = new Map([['/b/app.js', 'x']]);
  const refusals: string[] = [];
  const srv = await startServer(bucket(objects, refusals));
  try {
    const env = {
      AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
      AWS_REGION: 'ap-south-1',
    };
    const fromEnv = new S3Fetcher({ bucket: 'b', key: 'app.js', endpoint: srv.url }, env);
    assert.equal(fromEnv.region, 'ap-south-1');
    assert.ok(await fromEnv.fetch(signal()));
    // Signed with the environment's key, for the environment's region.
    assert.deepEqual(refusals, []);
    assert.match(
      String(srv.requests.at(-1)?.headers.authorization),
      /Credential=AKIDLOCALTEST\/\d{8}\/ap-south-1\//,
    );
    const wrong = new S3Fetcher(
      { bucket: 'b', key: 'app.js', endpoint: srv.url, credentials: { ...KEY, secretAccessKey: 'not it' } },
      {},
    );
    await assert.rejects(wrong.fetch(signal()), (err: Error & { code?: string; status?: number }) => {
      assert.equal(err.code, 'ERR_OVERSEER_FETCH_HTTP', err.message);
      assert.equal(err.status, 403);
      return true;
    });
    assert.deepEqual(refusals.at(-1), 'the signature does not match');
  } finally {
    await srv.close();
  }
});

test('options are checked: a coded error names the option', () => {
  assert.throws(() => new S3Fetcher({ bucket: '', key: 'k' }), {
    code: 'ERR_OVERSEER_INVALID_CONFIG',
    message: /S3Fetcher: options.bucket/,
  });
  assert.throws(() => new S3Fetcher({ bucket: 'b', key: 'k', credentials: { accessKeyId: 'x' } as never }), {
    code: 'ERR_OVERSEER_INVALID_CONFIG',
    message: /options.credentials/,
  });
  assert.throws(() => new S3Fetcher({ bucket: 'b', key: 'k', endpont: 'x' } as never), {
    message: /endpont is not a known option/,
  });
  // The options S3Fetcher hands on to its HTTP side are still named as the user wrote them.
  for (const [o, option] of [
    [{ timeout: -1 }, 'timeout'],
    [{ interval: -1 }, 'interval'],
    [{ maxBytes: 0 }, 'maxBytes'],
    [{ minBytesPerSecond: -1 }, 'minBytesPerSecond'],
    [{ deadline: 0 }, 'deadline'],
    [{ sha256: 'abc' }, 'sha256'],
    [{ sha256: 'a'.repeat(64), sha256Key: 'k.sha256' }, 'sha256 and options\\.sha256Key'],
    [{ signatureKey: 'k.sig' }, 'publicKey is needed'],
  ] as const)
    assert.throws(() => new S3Fetcher({ bucket: 'b', key: 'k', ...o } as never, {}), {
      code: 'ERR_OVERSEER_INVALID_CONFIG',
      message: new RegExp(`^S3Fetcher: options\\.${option}`),
    });
  assert.equal(
    new S3Fetcher({ bucket: 'b', key: 'a/b c', region: 'us-west-2' }, {}).url.href,
    'https://b.s3.us-west-2.amazonaws.com/a/b%20c',
  );
});
