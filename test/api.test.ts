// The API server in-process, against a stand-in master: the bounds that need many events.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_LIMITS, type ApiTarget, createApiServer } from '../src/api.js';
import type { MasterEvents } from '../src/events.js';

class FakeMaster extends EventEmitter<MasterEvents> implements ApiTarget {
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
  const server = createApiServer(master);
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
    // What reached the reader is bounded by the backlog cap plus kernel buffers, not 20 MiB.
    assert.ok(received < API_LIMITS.maxEventBacklog + 4 * 1024 * 1024, `received ${received} bytes`);
    const dropped = /"event":"dropped","count":(\d+)/.exec(text);
    assert.ok(dropped, 'no dropped marker');
    assert.ok(Number(dropped[1]) > 10_000, `dropped ${dropped[1]}`);
    assert.ok(text.includes('"event":"ready"'), 'events after the gap still arrive');
  } finally {
    server.close();
    server.closeAllConnections();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
