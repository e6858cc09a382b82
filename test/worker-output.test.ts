// A worker's output as the master passes it on (`overseer run`), on in-process streams: every
// line, in order, and a flood of lines that yields to the rest of the master between batches.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { LogBuffer } from '../src/master/log-buffer.js';
import { WorkerOutput } from '../src/master/worker-output.js';

/** A sink that never pushes back (a file, /dev/null): it counts what it is given. */
function countingSink(): Writable & { lines: number; text: string } {
  const sink = new Writable({
    highWaterMark: 1 << 30,
    write(chunk: Buffer, _enc, done) {
      const s = chunk.toString();
      sink.lines += s.split('\n').length - 1;
      if (sink.text.length < 1_000) sink.text += s;
      done();
    },
  }) as Writable & { lines: number; text: string };
  sink.lines = 0;
  sink.text = '';
  return sink;
}

test('lines are passed on whole and in order: CRLF, pieces across chunks, the last one without a newline', async () => {
  const sink = countingSink();
  const buffer = new LogBuffer(100);
  const source = new PassThrough();
  const passed = new WorkerOutput(buffer, true, { stdout: sink, stderr: sink }).attach(7, 'stdout', source);
  source.write('one\r\ntw');
  source.write('o\n\nthree');
  source.end();
  await passed.passedOn;
  assert.equal(sink.text, '[worker 7] one\n[worker 7] two\n[worker 7] \n[worker 7] three\n');
  assert.equal(buffer.nextSeq, 5);
});

test("a flood of short lines yields to the rest of the master's loop between batches (its control socket, its channels)", async () => {
  const sink = countingSink();
  const buffer = new LogBuffer(1_000);
  const source = new PassThrough();
  // As libuv hands over many 64 KB reads in one turn: 16 of them, a million empty lines.
  const CHUNKS = 16;
  const LINES = 64 * 1024;
  for (let i = 0; i < CHUNKS; i++) source.write('\n'.repeat(LINES));
  source.end();
  let passedBeforeATurn = -1;
  setImmediate(() => {
    passedBeforeATurn = sink.lines;
  });
  const passed = new WorkerOutput(buffer, false, { stdout: sink, stderr: sink }).attach(1, 'stdout', source);
  await passed.passedOn;
  assert.equal(sink.lines, CHUNKS * LINES, 'every line passed on');
  assert.ok(
    passedBeforeATurn >= 0 && passedBeforeATurn <= 2 * LINES,
    `${passedBeforeATurn} lines passed on before anything else in the master got a turn`,
  );
});
