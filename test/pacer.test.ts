// Fetch intervals are jittered ±10 %, so hosts started together do not poll in lockstep.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JITTER, Pacer } from '../src/fetcher/pacer.js';

test('each wait is the interval ±10 %, spread across that range', async () => {
  assert.equal(new Pacer(1_000, () => 0).nextInterval(), 900);
  assert.equal(new Pacer(1_000, () => 0.5).nextInterval(), 1_000);
  assert.equal(new Pacer(1_000, () => 0.999_999).nextInterval(), 1_100);
  const p = new Pacer(10_000);
  const waits = Array.from({ length: 200 }, () => p.nextInterval());
  for (const w of waits) assert.ok(w >= 10_000 * (1 - JITTER) && w <= 10_000 * (1 + JITTER), String(w));
  assert.ok(new Set(waits).size > 100, 'not in lockstep');
  // And the wait itself honours it: the second check comes 90 % of 200 ms after the first.
  const short = new Pacer(200, () => 0);
  const signal = new AbortController().signal;
  await short.wait(signal, false);
  const t0 = Date.now();
  await short.wait(signal, false);
  const took = Date.now() - t0;
  assert.ok(took >= 170 && took < 400, `waited ${took} ms`);
});
