// The tests' process helper says why a process failed: a failure message names what it waited
// for and what the process said last. An uncaught error's stack is longer than what it shows
// of stderr, so the error's own line (its message, its code) must still be in it: a Windows
// lane failure once showed only a stack through the supervisor's spawn seam.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { stopAll, TestProcess } from './support/process.js';

after(() => stopAll());

/** A process that dies of a coded error thrown 20 calls deep, under more stack than the tail shows. */
const THROWS_DEEP = `
function deeper(n) {
  if (n === 0) throw Object.assign(new TypeError('the reason it failed'), { code: 'ERR_SOMETHING' });
  deeper(n - 1);
}
deeper(20);
`;

test("a failure message shows an uncaught error's message and code, not only the end of its stack", async () => {
  const p = new TestProcess(process.execPath, ['-e', THROWS_DEEP]);
  const err = await p.nth('ready', 1, 10_000).then(
    () => assert.fail('a process that throws printed a ready event'),
    (e: unknown) => e as Error,
  );
  assert.equal(p.exit?.code, 1);
  assert.ok(p.stderr.length > 10, `a stack longer than the tail: ${p.stderr.length} lines`);
  assert.match(err.message, /it ended .* waiting for ready #1/);
  assert.match(err.message, /TypeError: the reason it failed/);
  assert.match(err.message, /code: 'ERR_SOMETHING'/);
  // The tail is still there: the end of the stack and node's version line.
  assert.match(err.message, /Node\.js v\d+/);
});

test('a process that failed with a short message shows it once', async () => {
  const p = new TestProcess(process.execPath, ['-e', "console.error('Error: short'); process.exit(3)"]);
  const err = await p.nth('ready', 1, 10_000).then(
    () => assert.fail('printed a ready event'),
    (e: unknown) => e as Error,
  );
  assert.equal(err.message.split('Error: short').length, 2, err.message);
});
