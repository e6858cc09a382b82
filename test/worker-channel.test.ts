// The master's own end of a worker's channel, without a process: Node's wire formats decoded
// within bounds, the contract's schema, and the channel's bounds (size, rate, replies left
// unread), its writes in order with the handle protocol's ACKs, and the ChildProcess surface it
// gives (send, disconnect, connected, the events), on a fake ChildProcess whose channel is one end
// of an in-process unix socket pair and whose worker is the other end, written to by hand.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import v8 from 'node:v8';
import {
  CHANNEL_BOUNDS,
  CMD,
  failedMessage,
  message,
  type WorkerMessage,
  workerMessageProblem,
} from '../src/contract/messages.js';
import { Decoder, encode, type Serialization } from '../src/master/channel-wire.js';
import { isJsonText } from '../src/master/json-syntax.js';
import { type ChannelOptions, shortMessagesOnly, WorkerChannel } from '../src/master/worker-channel.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-channel-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Everything `decoder` makes of `chunks`: the messages, and the problem if there is one. */
function decodeAll(decoder: Decoder, chunks: Buffer[]): { messages: unknown[]; problem?: string } {
  const messages: unknown[] = [];
  for (const chunk of chunks) {
    const problem = decoder.push(chunk, (m) => messages.push(m) > 0);
    if (problem !== undefined) return { messages, problem };
  }
  return { messages };
}

/** `buf` cut into pieces of `size` bytes. */
const pieces = (buf: Buffer, size: number): Buffer[] =>
  Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));

describe("Node's wire formats, decoded within bounds", () => {
  for (const serialization of ['json', 'advanced'] as const) {
    test(`${serialization}: messages whole, however the bytes are cut`, () => {
      const sent = [{ a: 1 }, 'text', 42, { cmd: CMD, act: 'ready' }, { nested: { list: [1, 2, 3] } }];
      const wire = Buffer.concat(sent.map((m) => encode(serialization, m)));
      for (const size of [1, 3, 7, wire.length]) {
        const { messages, problem } = decodeAll(new Decoder(serialization, 1024), pieces(wire, size));
        assert.equal(problem, undefined);
        assert.deepEqual(messages, sent);
      }
    });

    test(`${serialization}: a message longer than the bound is a problem, before it is all read`, () => {
      const decoder = new Decoder(serialization, 100);
      const { messages, problem } = decodeAll(decoder, [
        encode(serialization, 'short'),
        encode(serialization, 'x'.repeat(200)).subarray(0, 150),
      ]);
      assert.deepEqual(messages, ['short']);
      assert.match(problem ?? '', /longer than 100 bytes/);
      // Broken for good: nothing more is decoded.
      assert.deepEqual(decodeAll(decoder, [encode(serialization, 'more')]).messages, []);
    });
  }

  for (const serialization of ['json', 'advanced'] as const) {
    test(`${serialization}: a long message nobody would hear is not decoded; a long one of Node's is a problem unread`, () => {
      const nobody = (): Decoder => new Decoder(serialization, 4096, () => false, 256);
      const app = { items: Array.from({ length: 200 }, () => ({})) };
      const short = { items: [] };
      assert.deepEqual(decodeAll(nobody(), [encode(serialization, app), encode(serialization, short)]), {
        messages: [short],
      });
      // Heard, it is decoded as before.
      assert.deepEqual(
        decodeAll(new Decoder(serialization, 4096, () => true, 256), [encode(serialization, app)]),
        {
          messages: [app],
        },
      );
      const internal = { cmd: 'NODE_OVERSEER', act: 'failed', message: 'x'.repeat(400) };
      assert.match(
        decodeAll(nobody(), [encode(serialization, internal)]).problem ?? '',
        /contract message of \d+ bytes/,
      );
      // NODE_ further in, or not the cmd: the program's.
      const lookalike = { subcmd: 'NODE_ENV', items: app.items };
      assert.deepEqual(decodeAll(nobody(), [encode(serialization, lookalike)]), { messages: [] });
    });

    test(`${serialization}: a handle's message is never decoded, heard or not: its cmd is all the NACK needs`, () => {
      const app = { items: Array.from({ length: 200 }, () => ({})) };
      const handle = { cmd: 'NODE_HANDLE', type: 'net.Socket', msg: app };
      for (const heard of [false, true]) {
        const decoder = new Decoder(serialization, 4096, () => heard, 256);
        assert.deepEqual(decodeAll(decoder, [encode(serialization, handle)]).messages, [
          { cmd: 'NODE_HANDLE' },
        ]);
      }
      // Short ones too; and the ACK and NACK, whose cmd starts the same, are decoded as before.
      const short = { cmd: 'NODE_HANDLE', type: 'net.Socket', msg: 'x' };
      const answers = [{ cmd: 'NODE_HANDLE_ACK' }, { cmd: 'NODE_HANDLE_NACK' }];
      assert.deepEqual(
        decodeAll(
          new Decoder(serialization, 4096),
          [short, ...answers].map((m) => encode(serialization, m)),
        ),
        { messages: [{ cmd: 'NODE_HANDLE' }, ...answers] },
      );
    });
  }

  test('a long frame left undecoded is still checked: garbage is malformed, and swallows no message after it', () => {
    const nobody = (serialization: Serialization): Decoder =>
      new Decoder(serialization, 1 << 20, () => false, 256);
    const online = { cmd: CMD, act: 'online' };
    // 100 KB of 0xFF with no newline, then the worker's next message: one line, not JSON.
    const garbage = Buffer.alloc(100_000, 0xff);
    for (const bad of [
      garbage,
      Buffer.from(`x${'y'.repeat(1000)}`),
      Buffer.concat([Buffer.from('["'), garbage]),
      Buffer.from(`[${'1,'.repeat(1000)}`),
    ]) {
      const { messages, problem } = decodeAll(nobody('json'), [bad, encode('json', online)]);
      assert.deepEqual(messages, []);
      assert.match(problem ?? '', /malformed/, bad.subarray(0, 8).toString('latin1'));
    }
    // A frame of the right length that is not V8's serialization.
    const frame = Buffer.alloc(4 + 1000, 0x41);
    frame.writeUInt32BE(1000, 0);
    assert.match(decodeAll(nobody('advanced'), [frame]).problem ?? '', /malformed/);
    // A handle's message, left undecoded too, is checked as well.
    const handle = Buffer.concat([Buffer.from('{"cmd":"NODE_HANDLE","msg":"'), garbage, Buffer.from('"}\n')]);
    assert.match(decodeAll(nobody('json'), [handle]).problem ?? '', /malformed/);
    // What Node writes passes: a long message of the program's with strings of any script.
    const app = { text: 'é€😀'.repeat(100), list: [true, false, null, -1.5e3] };
    assert.deepEqual(decodeAll(nobody('json'), [encode('json', app), encode('json', online)]), {
      messages: [online],
    });
  });

  test('the syntax scan agrees with JSON.parse, and takes every start of a JSON text as one', () => {
    const texts = [
      '{}',
      '[]',
      '""',
      '0',
      '-1.5e+3',
      'true',
      'false',
      'null',
      ' {"a" : [1, {"b": null}], "c": "\\"\\u00e9"} ',
      '{"a":1}}',
      '{"a" 1}',
      '{"a":1,}',
      '[1,]',
      '[,1]',
      '{,}',
      '{1:2}',
      'tru',
      'nul',
      'x',
      '"a',
      '"\\x"',
      '[1 2]',
      '{"a":1}{"b":2}',
      '"\u0001"',
      '[',
      '{"a":',
      '"\\"',
      '',
    ];
    for (const text of texts) {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      assert.equal(isJsonText(Buffer.from(text)), parses, text);
      if (!parses) continue;
      for (let i = 0; i <= text.length; i++)
        assert.ok(isJsonText(Buffer.from(text.slice(0, i)), true), text.slice(0, i));
    }
    assert.equal(isJsonText(Buffer.from('{"a":1}}'), true), false, 'a prefix with more after the whole text');
  });

  test('json: garbage is a problem, not a throw', () => {
    const { problem } = decodeAll(new Decoder('json', 1024), [Buffer.from('{"this is not json\n')]);
    assert.match(problem ?? '', /malformed/);
  });

  test('advanced: what V8 serializes (Buffer, Map, BigInt, Date) comes back; garbage is a problem', () => {
    const sent = {
      buf: Buffer.from('hi'),
      map: new Map([['k', 1]]),
      big: 10n,
      when: new Date(0),
      u8: new Uint8Array([1, 2]),
    };
    const { messages } = decodeAll(new Decoder('advanced', 1024), [encode('advanced', sent)]);
    const got = messages[0] as typeof sent;
    assert.equal(Buffer.from(got.buf).toString(), 'hi');
    assert.deepEqual([got.map.get('k'), got.big, got.when.getTime(), [...got.u8]], [1, 10n, 0, [1, 2]]);
    const garbage = Buffer.from([0, 0, 0, 4, 1, 2, 3, 4]);
    assert.match(decodeAll(new Decoder('advanced', 1024), [garbage]).problem ?? '', /malformed/);
  });
});

describe("the contract's schema", () => {
  const ok: WorkerMessage[] = [
    message({ act: 'ready' }),
    message({ act: 'failed', message: 'no', stack: 'Error: no' }),
    message({ act: 'listen', seq: 1, request: { host: '127.0.0.1', port: 0, index: 0 } }),
    message({ act: 'listen', seq: 2, request: { path: '/tmp/a.sock', readableAll: true, index: 1 } }),
    message({
      act: 'listening',
      info: { addressType: 4, address: '127.0.0.1', port: 3000, key: 'tcp:127.0.0.1:3000' },
    }),
    message({
      act: 'listening',
      info: { addressType: -1, address: '/tmp/a.sock', port: -1, key: 'pipe:/tmp/a.sock' },
    }),
    message({ act: 'leaving', seq: 0 }),
  ];
  test('the messages a worker sends keep it; an act this master does not know is let be', () => {
    for (const m of ok) assert.equal(workerMessageProblem(m), undefined, JSON.stringify(m));
    assert.equal(workerMessageProblem({ cmd: CMD, act: 'from-a-newer-worker', x: 1 }), undefined);
  });

  test('each field the master reads is checked, and the problem named', () => {
    const bad: [object, RegExp][] = [
      [{ cmd: CMD }, /act is not a string/],
      [{ cmd: CMD, act: 'listening', info: null }, /listening: info is not an object/],
      [{ cmd: CMD, act: 'listening', info: { addressType: 5 } }, /info addressType is not one of/],
      [{ cmd: CMD, act: 'listen', seq: -1, request: { index: 0 } }, /listen: seq is not a count/],
      [
        { cmd: CMD, act: 'listen', seq: 1, request: { port: 70_000, index: 0 } },
        /request port is not a port/,
      ],
      [{ cmd: CMD, act: 'listen', seq: 1, request: { path: 'x'.repeat(5000), index: 0 } }, /longer than/],
      [{ cmd: CMD, act: 'failed', message: 42 }, /failed: message is not a string/],
      [{ cmd: CMD, act: 'leaving', seq: '1' }, /leaving: seq is not a count/],
    ];
    for (const [m, problem] of bad)
      assert.match(workerMessageProblem(m) ?? 'kept it', problem, JSON.stringify(m));
  });

  test("a worker's failure is clipped to travel within the contract's bound", () => {
    const m = failedMessage('\u0001'.repeat(100_000), '\u0001'.repeat(100_000));
    assert.equal(workerMessageProblem(m), undefined);
    assert.ok(encode('json', m).length <= CHANNEL_BOUNDS.contractMessageBytes);
    assert.ok(encode('advanced', m).length <= CHANNEL_BOUNDS.contractMessageBytes);
  });
});

let pairs = 0;

/** A fake worker: a ChildProcess's surface, whose channel (stdio[3]) is one end of a socket pair. */
async function worker(
  options: Partial<ChannelOptions> = {},
  serialization: Serialization = 'json',
): Promise<{
  child: EventEmitter & {
    pid: number;
    connected: boolean;
    send: (...a: unknown[]) => boolean;
    disconnect(): void;
  };
  channel: WorkerChannel;
  peer: net.Socket;
  violations: string[];
  /** What the worker's end has read, decoded. */
  received: unknown[];
}> {
  const file = path.join(tmp, `pair-${++pairs}.sock`);
  const server = net.createServer().listen(file);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const peer = net.connect(file);
  const [masterEnd] = await accepted;
  server.close();
  const child = Object.assign(new EventEmitter(), { pid: 1234, stdio: [null, null, null, masterEnd] });
  const violations: string[] = [];
  const channel = new WorkerChannel(child as never, 3, {
    serialization,
    sendFd: async (_socket, _fd, data) => {
      await new Promise<void>((resolve) => masterEnd.write(data, () => resolve()));
    },
    onViolation: (what) => violations.push(what),
    ...options,
  });
  const received: unknown[] = [];
  readAsNode(peer, serialization, (m) => received.push(m));
  return { child: child as never, channel, peer, violations, received };
}

/**
 * What the master writes, read as the worker's Node reads it: every message whole (the master's
 * own Decoder keeps only the cmd of a message sent with a handle).
 */
function readAsNode(peer: net.Socket, serialization: Serialization, onMessage: (m: unknown) => void): void {
  let buf = Buffer.alloc(0);
  peer.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (serialization === 'json') {
        const nl = buf.indexOf(0x0a);
        if (nl < 0) return;
        onMessage(JSON.parse(buf.subarray(0, nl).toString()));
        buf = buf.subarray(nl + 1);
      } else {
        if (buf.length < 4 || buf.length < 4 + buf.readUInt32BE(0)) return;
        const size = 4 + buf.readUInt32BE(0);
        onMessage(v8.deserialize(buf.subarray(4, size)));
        buf = buf.subarray(size);
      }
    }
  });
}

async function until(what: string, predicate: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("the master's end of a worker's channel", () => {
  test("messages arrive as Node's: the program's as 'message', NODE_* ones as 'internalMessage', a tick later", async () => {
    const { child, peer, channel } = await worker();
    const heard: [string, unknown][] = [];
    child.on('message', (m) => heard.push(['message', m]));
    child.on('internalMessage', (m) => heard.push(['internalMessage', m]));
    peer.write(Buffer.concat([encode('json', { hello: 1 }), encode('json', { cmd: CMD, act: 'online' })]));
    await until('two messages', () => heard.length === 2);
    assert.deepEqual(heard, [
      ['message', { hello: 1 }],
      ['internalMessage', { cmd: CMD, act: 'online' }],
    ]);
    assert.equal(child.connected, true);
    assert.equal(channel.connected, true);
    peer.destroy();
  });

  test("a listener that waits only for a short message ('ready') has no long one decoded for it", async () => {
    const { child, peer } = await worker();
    const heard: unknown[] = [];
    child.on(
      'message',
      shortMessagesOnly((m: unknown) => heard.push(m)),
    );
    const long = { items: Array.from({ length: CHANNEL_BOUNDS.contractMessageBytes / 2 }, () => ({})) };
    peer.write(Buffer.concat([encode('json', long), encode('json', 'ready')]));
    await until('ready', () => heard.length === 1);
    assert.deepEqual(heard, ['ready']);
    // With an ordinary listener too, long ones are decoded (for it).
    const all: unknown[] = [];
    child.on('message', (m: unknown) => all.push(m));
    peer.write(Buffer.concat([encode('json', long), encode('json', 'again')]));
    await until('both', () => all.length === 2);
    assert.deepEqual(all, [long, 'again']);
    peer.destroy();
  });

  test("garbage: the violation is reported once, the channel goes ('disconnect'), a send after it fails as Node's does", async () => {
    const { child, peer, violations } = await worker();
    const disconnected = once(child, 'disconnect');
    peer.write('{"this is not json\n{"cmd":"NODE_OVERSEER","act":"ready"}\n');
    await disconnected;
    assert.deepEqual(violations.length, 1);
    assert.match(violations[0]!, /malformed/);
    assert.equal(child.connected, false);
    const err = await new Promise<Error | null>((resolve) => child.send({ x: 1 }, resolve));
    assert.equal((err as NodeJS.ErrnoException).code, 'ERR_IPC_CHANNEL_CLOSED');
    peer.destroy();
  });

  test('a contract message over its bound, and a flood past the rate, are violations', async () => {
    const big = await worker();
    big.peer.write(
      encode('json', { cmd: CMD, act: 'failed', message: 'x'.repeat(CHANNEL_BOUNDS.contractMessageBytes) }),
    );
    await until('a violation', () => big.violations.length === 1);
    assert.match(big.violations[0]!, /contract message of \d+ bytes/);
    big.peer.destroy();

    let now = 0;
    const flood = await worker({ now: () => now });
    const leaving = encode('json', { cmd: CMD, act: 'leaving', seq: 1 });
    const burst = (n: number) => flood.peer.write(Buffer.concat(Array.from({ length: n }, () => leaving)));
    let heard = 0;
    flood.child.on('internalMessage', () => heard++);
    burst(CHANNEL_BOUNDS.contractBurst);
    await until('the burst', () => heard === CHANNEL_BOUNDS.contractBurst);
    now += 1000; // a second later, a second's worth more may come
    burst(CHANNEL_BOUNDS.contractPerSecond);
    await until(
      'a second later',
      () => heard === CHANNEL_BOUNDS.contractBurst + CHANNEL_BOUNDS.contractPerSecond,
    );
    assert.deepEqual(flood.violations, []);
    burst(1);
    await until('a violation', () => flood.violations.length === 1);
    assert.match(flood.violations[0]!, /more than 1000 contract messages at once/);
    flood.peer.destroy();
  });

  test("a worker that does not read: the master's replies it leaves are bounded", async () => {
    const { child, peer, violations } = await worker();
    peer.pause();
    const ack = { cmd: CMD, act: 'ack', seq: 123456 };
    let sent = 0;
    while (violations.length === 0 && sent < 1_000_000) {
      child.send(ack);
      sent++;
      if (sent % 1000 === 0) await tick();
    }
    assert.match(violations[0] ?? 'none', /left more than \d+ bytes of the master's replies unread/);
    assert.equal(child.connected, false);
    peer.destroy();
  });

  test('a handle: what follows waits for its ACK; a NACK resends it, three times, as Node does', async () => {
    const { child, peer, received } = await worker();
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const calls: string[] = [];
    child.send({ n: 1 }, server, (err: Error | null) => calls.push(`1 ${err}`));
    child.send({ n: 2 }, (err: Error | null) => calls.push(`2 ${err}`));
    await until('the handle message', () => received.length === 1);
    await tick();
    assert.deepEqual(received[0], { cmd: 'NODE_HANDLE', type: 'net.Server', msg: { n: 1 } });
    assert.deepEqual(calls, ['1 null'], 'the second waits for the ACK');
    peer.write(encode('json', { cmd: 'NODE_HANDLE_NACK' }));
    await until('the resend', () => received.length === 2);
    assert.deepEqual(received[1], received[0]);
    peer.write(encode('json', { cmd: 'NODE_HANDLE_ACK' }));
    await until('the second message', () => received.length === 3);
    assert.deepEqual(received[2], { n: 2 });
    assert.deepEqual(calls, ['1 null', '2 null']);
    // A handle from the worker cannot arrive here: it is told so (Node's NACK).
    peer.write(encode('json', { cmd: 'NODE_HANDLE', type: 'net.Socket', msg: 'x' }));
    await until('the NACK', () => received.length === 4);
    assert.deepEqual(received[3], { cmd: 'NODE_HANDLE_NACK' });
    server.close();
    peer.destroy();
  });

  test('a handle with no fd left for its copy (EMFILE): that send fails alone; the channel stays, and what follows goes', async () => {
    let sends = 0;
    const { child, channel, peer, received } = await worker({
      // What os/posix.ts's sendFd throws when it cannot dup the fds, before it writes anything.
      sendFd: async () => {
        sends++;
        throw Object.assign(new Error('fcntl EMFILE: too many open files'), {
          code: 'EMFILE',
          errno: -24,
          syscall: 'fcntl',
        });
      },
    });
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const calls: string[] = [];
      child.send({ n: 1 }, server, (err: NodeJS.ErrnoException | null) =>
        calls.push(`1 ${err?.code ?? null}`),
      );
      child.send({ n: 2 }, (err: Error | null) => calls.push(`2 ${err}`));
      await until('the second message', () => received.length === 1);
      assert.deepEqual(received, [{ n: 2 }], 'nothing of the first was written');
      assert.deepEqual(calls, ['1 EMFILE', '2 null']);
      assert.equal(sends, 1, 'not retried');
      assert.equal(child.connected, true);
    } finally {
      channel.destroy();
      server.close();
      peer.destroy();
    }
  });

  test("send()'s arguments are checked as Node's are; disconnect() ends the channel once", async () => {
    const { child, peer } = await worker({}, 'advanced');
    assert.throws(() => child.send(undefined), { code: 'ERR_MISSING_ARGS' });
    assert.throws(() => child.send(() => {}), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => child.send('x', {}), { code: 'ERR_INVALID_HANDLE_TYPE' });
    assert.equal(child.send({ big: 10n }), true);
    const ended = once(peer, 'end');
    const disconnected = once(child, 'disconnect');
    child.disconnect();
    assert.equal(child.connected, false);
    await Promise.all([ended, disconnected]);
    const errors: Error[] = [];
    child.on('error', (e: Error) => errors.push(e));
    child.disconnect();
    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ERR_IPC_DISCONNECTED');
    peer.destroy();
  });
});
