// The API server in-process, against a stand-in master: the bounds that need many events.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_LIMITS, type ApiTarget, createApiServer } from '../src/control/http-api.js';
import { LIFECYCLE_EVENTS, type MasterEvents } from '../src/master/events.js';

class FakeMaster extends EventEmitter<MasterEvents> implements ApiTarget {
  readonly events: EventEmitter<MasterEvents> = this;
  dropped = 0;
  countDroppedEvents(n: number): void {
    this.dropped += n;
  }
  status(): object {
    return { pid: process.pid };
  }
  async restart(reason: string) {
    return { ok: true, reason, durationMs: 1, replaced: 1 };
  }
  async triggerUpdate(): Promise<object> {
    return { result: 'no-update' };
  }
  metrics(): string {
    return '';
  }
}

test('an events reader that does not read loses events, counted, instead of growing memory', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-api-'));
  const sock = path.join(dir, 'api.sock');
  const master = new FakeMaster();
  const server = await createApiServer(master);
  await new Promise<void>((r) => server.listen(sock, r));
  try {
    const s = net.connect(sock);
    await new Promise((r) => s.once('connect', r));
    s.write('GET /overseer/events HTTP/1.1\r\nHost: x\r\n\r\n');
    s.pause();
    await sleep(100);
    const big = 'x'.repeat(1024);
    // 20 MiB of events for a reader that reads nothing.
    for (let i = 0; i < 20_000; i++)
      master.emit('fork', { workerId: i, pid: 1, slot: 0, note: big } as never);
    let received = 0;
    let text = '';
    s.on('data', (d: Buffer) => {
      received += d.length;
      text += d.toString('utf8');
    });
    s.resume();
    await sleep(500);
    master.emit('ready', { workerId: 1, pid: 1, slot: 0, startupMs: 1 });
    await sleep(200);
    s.destroy();
    // What reached the reader is bounded by the socket's buffer plus the kernel's, not 20 MiB.
    assert.ok(received < 4 * 1024 * 1024, `received ${received} bytes`);
    const dropped = /"event":"dropped","count":(\d+)/.exec(text);
    assert.ok(dropped, 'no dropped marker');
    assert.ok(Number(dropped[1]) > 10_000, `dropped ${dropped[1]}`);
    assert.equal(master.dropped, Number(dropped[1]), 'every drop is counted for the metrics');
    assert.ok(text.includes('"event":"ready"'), 'events after the gap still arrive');
  } finally {
    server.close();
    server.closeAllConnections();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** An API server on a fresh unix socket, with a stand-in master. */
async function apiServer(): Promise<{ sock: string; master: FakeMaster; close(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-api-'));
  const sock = path.join(dir, 'api.sock');
  const master = new FakeMaster();
  const server = await createApiServer(master);
  await new Promise<void>((r) => server.listen(sock, r));
  return {
    sock,
    master,
    close: () => {
      server.close();
      server.closeAllConnections();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function connect(sock: string): Promise<net.Socket> {
  const s = net.connect(sock);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

test('60 events readers that never read, under a storm of small events: memory stays bounded', async () => {
  const api = await apiServer();
  const readers: net.Socket[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const s = await connect(api.sock);
      s.write('GET /overseer/events HTTP/1.1\r\nHost: x\r\n\r\n');
      s.pause();
      readers.push(s);
    }
    await sleep(200);
    const heap0 = process.memoryUsage().heapUsed;
    // The shape of a restart storm: small events, many of them (60 × 40,000 pending writes
    // would be about a gigabyte of write requests).
    for (let i = 0; i < 40_000; i++)
      api.master.emit('exit', { workerId: i, pid: 1, slot: 0, code: 0, signal: null, expected: true });
    const grown = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
    // Measured: 5.5 MiB, where writing on until a byte count was reached took 59 MiB.
    assert.ok(grown < 24, `the heap grew by ${grown.toFixed(1)} MiB`);
    assert.ok(api.master.dropped > 60 * 30_000, `only ${api.master.dropped} events were counted as dropped`);
    // A reader that catches up is told how many it missed, then gets new events.
    const r = readers[0]!;
    let text = '';
    r.on('data', (d: Buffer) => {
      text += d.toString('utf8');
    });
    r.resume();
    await sleep(300);
    api.master.emit('ready', { workerId: 7, pid: 1, slot: 0, startupMs: 1 });
    await sleep(200);
    const dropped = /"event":"dropped","count":(\d+)/.exec(text);
    assert.ok(dropped && Number(dropped[1]) > 30_000, `no dropped line: ${text.slice(-300)}`);
    assert.ok(text.includes('"event":"ready"'));
  } finally {
    for (const s of readers) s.destroy();
    api.close();
  }
});

test('past maxConnections a client gets 503 with a JSON body and Retry-After, not a bare close', async () => {
  const api = await apiServer();
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < API_LIMITS.maxConnections; i++) held.push(await connect(api.sock));
    const extra = await connect(api.sock);
    extra.write('POST /overseer/restart HTTP/1.1\r\nHost: x\r\n\r\n');
    let answer = '';
    extra.setEncoding('utf8').on('data', (d: string) => {
      answer += d;
    });
    await new Promise((r) => extra.once('close', r));
    assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.match(answer, /\r\nRetry-After: 1\r\n/);
    const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { code: string; ok: boolean };
    assert.equal(body.code, 'ERR_OVERSEER_BUSY');
    assert.equal(body.ok, false);
    // Once a connection is free, requests are served again.
    held.pop()?.destroy();
    await sleep(50);
    const ok = await connect(api.sock);
    ok.write('GET /overseer/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    let status = '';
    ok.setEncoding('utf8').on('data', (d: string) => {
      status += d;
    });
    await new Promise((r) => ok.once('close', r));
    assert.match(status, /^HTTP\/1\.1 200 OK/);
  } finally {
    for (const s of held) s.destroy();
    api.close();
  }
});

test("many events readers cost the master's emitter one listener per event, and no leak warning", async () => {
  const api = await apiServer();
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(`${w.name}: ${w.message}`);
  };
  process.on('warning', onWarning);
  const readers: net.Socket[] = [];
  const texts: string[] = [];
  try {
    // More readers than EventEmitter's default of 10 listeners per event (dashboards, `overseer top`).
    for (let i = 0; i < 12; i++) {
      const s = await connect(api.sock);
      texts.push('');
      s.setEncoding('utf8').on('data', (d: string) => {
        texts[i] += d;
      });
      s.write('GET /overseer/events HTTP/1.1\r\nHost: x\r\n\r\n');
      readers.push(s);
    }
    await sleep(200);
    for (const event of LIFECYCLE_EVENTS) assert.equal(api.master.listenerCount(event), 1, event);
    api.master.emit('ready', { workerId: 7, pid: 1, slot: 0, startupMs: 1 });
    await sleep(200);
    for (const [i, text] of texts.entries())
      assert.match(text, /"event":"ready".*"workerId":7/, `reader ${i}`);
    // One reader leaving leaves the others reading; the last one takes the listeners away.
    readers.shift()?.destroy();
    await sleep(100);
    api.master.emit('exit', { workerId: 7, pid: 1, slot: 0, code: 0, signal: null, expected: true });
    await sleep(200);
    for (const [i, text] of texts.slice(1).entries()) assert.match(text, /"event":"exit"/, `reader ${i + 1}`);
    for (const s of readers.splice(0)) s.destroy();
    await sleep(100);
    for (const event of LIFECYCLE_EVENTS) assert.equal(api.master.listenerCount(event), 0, event);
    assert.deepEqual(
      warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    for (const s of readers) s.destroy();
    api.close();
  }
});
