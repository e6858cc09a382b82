// fetcherFunc: a plain function as a Fetcher, with its results checked.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { type FetchOptions, fetcherFunc } from '../src/fetcher/index.js';

test('passes the signal and options through, and returns streams, versions and null', async () => {
  const seen: [AbortSignal, FetchOptions | undefined][] = [];
  const results: unknown[] = [
    Readable.from(['a']),
    { stream: Readable.from(['b']), version: 'v2' },
    null,
    undefined,
  ];
  const f = fetcherFunc(async (signal, options) => {
    seen.push([signal, options]);
    return results.shift() as never;
  });
  const ac = new AbortController();
  assert.ok((await f.fetch(ac.signal)) instanceof Readable);
  const v = await f.fetch(ac.signal, { immediate: true });
  assert.equal((v as { version?: string }).version, 'v2');
  assert.equal(await f.fetch(ac.signal), null);
  assert.equal(await f.fetch(ac.signal), null, 'undefined counts as no update');
  assert.equal(seen[0]?.[0], ac.signal);
  assert.deepEqual(seen[1]?.[1], { immediate: true });
});

test('a wrong result is a coded error; an aborted signal rejects before calling; a non-function is a TypeError', async () => {
  let calls = 0;
  const f = fetcherFunc(async () => {
    calls++;
    return 'bytes' as never;
  });
  await assert.rejects(f.fetch(new AbortController().signal), { code: 'ERR_OVERSEER_FETCH_INVALID_RESULT' });
  const reason = new Error('stop');
  await assert.rejects(f.fetch(AbortSignal.abort(reason)), (err) => err === reason);
  assert.equal(calls, 1);
  assert.throws(() => fetcherFunc('nope' as never), {
    name: 'TypeError',
    code: 'ERR_OVERSEER_INVALID_CONFIG',
  });
});
