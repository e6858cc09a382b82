// The upgrade sanity check on its own: what a candidate leaves behind when it hangs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runSanityCheck } from '../src/upgrade/run-sanity-check.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-sanity-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const fds = (): number => fs.readdirSync('/proc/self/fd').length;

/** A candidate that starts `sleep 300` on its own stdout, writes its pid, then does `then`. */
function candidate(name: string, then: string): { file: string; childPid: () => number } {
  const pidFile = path.join(tmp, `${name}.pid`);
  const file = path.join(tmp, `${name}.mjs`);
  fs.writeFileSync(
    file,
    `import { spawn } from 'node:child_process';
     import fs from 'node:fs';
     const c = spawn('sleep', ['300'], { stdio: ['ignore', 'inherit', 'inherit'] });
     fs.writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
     ${then}`,
  );
  return { file, childPid: () => Number(fs.readFileSync(pidFile, 'utf8')) };
}

async function gone(pid: number): Promise<boolean> {
  const deadline = Date.now() + 2_000;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  return !alive(pid);
}

test('a candidate that hangs is killed with everything it started, and no pipe of it is kept', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const c = candidate('hang', 'setInterval(() => {}, 1000);');
  const before = fds();
  await assert.rejects(runSanityCheck(process.execPath, [c.file], 1_000), {
    code: 'ERR_OVERSEER_SANITY_TIMEOUT',
  });
  assert.equal(await gone(c.childPid()), true, "the candidate's child outlived the check");
  const deadline = Date.now() + 2_000;
  while (fds() > before && Date.now() < deadline) await sleep(20);
  assert.equal(fds(), before, 'the check left fds open');
});

test('a candidate that passes but leaves a child behind: the child is killed, and the pass stands', {
  skip: process.platform !== 'linux' && 'reads /proc',
}, async () => {
  const c = candidate('leaves', 'console.log(process.env.OVERSEER_BIN_CHECK); process.exit(0);');
  const t0 = Date.now();
  await runSanityCheck(process.execPath, [c.file], 10_000);
  assert.ok(Date.now() - t0 < 5_000, 'the check waited for the child instead of ending it');
  assert.equal(await gone(c.childPid()), true);
});
