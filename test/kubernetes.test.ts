// examples/kubernetes/ under a rolling update, with this test as the cluster on loopback: the
// Deployment controller (maxSurge/maxUnavailable), a kubelet per pod (the container's own
// command as PID 1 of a pid namespace, its probes, SIGTERM at deletion, SIGKILL at the grace
// period) and the Service (round robin over the pods whose readinessProbe passes, taken out
// PROPAGATION_MS after it fails). Every number comes from the manifests and the Dockerfile as a
// user applies and builds them. With the example's settings a rolling update under load loses
// nothing; with drainDelay 0, everything else equal, it loses requests: the pod stops serving
// while the Service still routes to it.
//
// A real cluster also takes a pod out of its Service at the deletion itself, often before its
// readinessProbe fails. The test leaves the Service only the probe, the slower way, so the
// example's drainDelay is proven against the worst case.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type RunOptions, runOptions } from '../src/cli/run-options.js';
import { freePorts } from './support/http.js';
import { Deployment } from './support/kube/deployment.js';
import { Pod } from './support/kube/pod.js';
import { Service } from './support/kube/service.js';
import { onLoopback, readWorkload } from './support/kube/workload.js';
import { describeErrors, type LoadResult, type LoadRun, startLoad } from './support/load.js';
import { PID_NAMESPACE, unshareSkip } from './support/pid-namespace.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = path.join(ROOT, 'examples/kubernetes');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  bin: { overseer: string };
};
const CLI = path.join(ROOT, PKG.bin.overseer);
/**
 * From a pod's readiness to the Service's endpoints: kube-proxy applies changes at most once per
 * its minSyncPeriod, 1 s by default; busy clusters take longer, which drainDelay must cover.
 */
const PROPAGATION_MS = 1_000;

const w = readWorkload(EXAMPLE);
const pods: Pod[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-k8s-'));
after(async () => {
  await Promise.all(pods.map((p) => p.kill()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** The master's options as `overseer run` reads them from `argv`, in the container's working directory. */
async function masterOptions(argv: string[]): Promise<RunOptions> {
  assert.equal(argv[1], 'run');
  const cwd = process.cwd();
  process.chdir(EXAMPLE);
  try {
    const o = await runOptions(argv.slice(2));
    assert.notEqual(o, 'help');
    return o as RunOptions;
  } finally {
    process.chdir(cwd);
  }
}

/** `argv` with `--name`'s value replaced (`--name=V` or `--name V`, given exactly once). */
function withFlag(argv: string[], name: string, value: string): string[] {
  const at = argv.flatMap((a, i) => (a === `--${name}` || a.startsWith(`--${name}=`) ? [i] : []));
  assert.equal(at.length, 1, `--${name} given once`);
  const i = at[0]!;
  return argv[i] === `--${name}` ? argv.with(i + 1, value) : argv.with(i, `--${name}=${value}`);
}

test("the example: overseer is the image's entrypoint (exec form, not root), and the Deployment's numbers fit together", async () => {
  const { image } = w;
  assert.match(image.from, /^node:\d+/);
  assert.ok(image.user !== undefined && !['root', '0'].includes(image.user), 'the app does not run as root');
  // No shell between the kubelet and the master: the runtime execs overseer's own bin (a
  // `#!/usr/bin/env node` script), so PID 1 is the master and SIGTERM reaches it.
  assert.equal(w.argv[0], path.posix.join(w.workingDir, 'node_modules/.bin/overseer'));
  assert.match(fs.readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  // The README's `kubectl exec <pod> -- overseer top` finds the CLI on PATH.
  assert.ok(
    image.env.PATH?.split(':').includes(path.posix.dirname(w.argv[0]!)),
    `overseer's bin folder on the image's PATH: ${image.env.PATH}`,
  );
  assert.deepEqual(
    image.expose.toSorted(),
    [...w.ports.values()].toSorted(),
    'the image exposes the container ports',
  );

  const o = await masterOptions(w.argv);
  const health = o.engine.healthAddress;
  assert.ok(health, 'the master has a health address');
  assert.equal(health.host, '0.0.0.0', "probes come to the pod's IP");
  assert.deepEqual([w.readiness.path, w.readiness.port], ['/readyz', health.port]);
  assert.deepEqual([w.liveness?.path, w.liveness?.port], ['/livez', health.port]);
  assert.equal(w.env.PORT, String(w.service.targetPort), 'the app listens where the Service sends');
  for (const [k, v] of Object.entries(w.service.selector))
    assert.equal(w.labels[k], v, `the Service selects ${k}`);

  // A new pod is ready before an old one goes.
  assert.equal(w.maxUnavailable, 0);
  assert.ok(w.maxSurge >= 1);
  // drainDelay outlasts the slowest way out of the endpoints (failureThreshold probes, then the
  // propagation) with a second to spare; the grace period outlasts drainDelay and the drain.
  const detectMs = w.readiness.failureThreshold * w.readiness.periodMs;
  assert.ok(
    o.engine.drainDelay >= detectMs + PROPAGATION_MS + 1_000,
    `drainDelay ${o.engine.drainDelay} ms, the endpoint may stay ${detectMs + PROPAGATION_MS} ms`,
  );
  assert.ok(
    w.graceMs >= o.engine.drainDelay + o.engine.terminateTimeout + 2_000,
    `terminationGracePeriodSeconds ${w.graceMs / 1000} s, drainDelay + terminateTimeout ${
      (o.engine.drainDelay + o.engine.terminateTimeout) / 1000
    } s`,
  );
});

/**
 * A pod's master exited as after a graceful stop: 0, though the app (which has no SIGTERM
 * handler) ends by the SIGTERM that follows its drain.
 */
const stoppedWell = (p: Pod): boolean => p.result?.code === 0;

interface Figures {
  keepAlive: LoadResult;
  newConnections: LoadResult;
  /** The first revision's pods, deleted by the rollout, and the second's. */
  old: Pod[];
  current: Pod[];
  service: Service;
}

/** Two revisions of the Deployment running `argv`, the second rolled out under load. */
async function rollingUpdate(t: TestContext, argv: string[]): Promise<Figures> {
  assert.equal(argv[0], path.posix.join(w.workingDir, 'node_modules/.bin/overseer'));
  const containerPorts = [...w.ports.values()];
  const free = await freePorts(2 * (w.replicas + w.maxSurge) * containerPorts.length);
  const hostPorts = new Map<string, Map<number, number>>();
  const run = fs.mkdtempSync(path.join(tmp, 'run-'));
  const service = new Service((pod) => hostPorts.get(pod.name)!.get(w.service.targetPort)!, PROPAGATION_MS);
  const deployment = new Deployment(w, (revision, index) => {
    const name = `${w.name}-r${revision}-${index}`;
    const ports = new Map(containerPorts.map((p) => [p, free.pop()!]));
    hostPorts.set(name, ports);
    const container = onLoopback({ ...w, argv }, ports);
    const own = path.join(run, name); // the container's own /tmp
    fs.mkdirSync(own);
    const pod = new Pod({
      name,
      revision,
      // The image's overseer bin is this repository's (package.json's "bin"), run by node.
      argv: [process.execPath, CLI, ...container.argv.slice(1)],
      cwd: EXAMPLE,
      env: { ...container.env, PATH: process.env.PATH ?? '/usr/bin:/bin', HOSTNAME: name, TMPDIR: own },
      hostPort: (p) => ports.get(p)!,
      readiness: w.readiness,
      liveness: w.liveness,
      graceMs: w.graceMs,
    });
    pods.push(pod);
    service.watch(pod);
    return pod;
  });
  const port = await service.listen();
  const loads: LoadRun[] = [];
  try {
    await deployment.rollout(20_000);
    const old = deployment.live();
    t.diagnostic(`${old[0]!.name}: ${[...PID_NAMESPACE, ...old[0]!.argv].join(' ')}`);
    await service.settle(old, 10_000);
    loads.push(
      startLoad({ port, concurrency: 8, keepAlive: true, maxMs: 45_000 }),
      startLoad({ port, concurrency: 2, keepAlive: false, maxMs: 45_000 }),
    );
    await sleep(500);
    const t0 = Date.now();
    await deployment.rollout(40_000);
    const rolloutMs = Date.now() - t0;
    const current = deployment.live();
    await service.settle(current, 10_000);
    await sleep(300);
    const [keepAlive, newConnections] = await Promise.all(loads.map((l) => l.stop()));
    const f: Figures = { keepAlive: keepAlive!, newConnections: newConnections!, old, current, service };
    for (const p of [...old, ...current]) {
      const s = service.stats.get(p)!;
      t.diagnostic(
        `${p.name}: ${s.connections} connections, ${s.failed} refused or reset` +
          (p.deletedAt === undefined
            ? ''
            : `; SIGTERM -> out of the endpoints in ${s.removedAt! - p.deletedAt} ms, -> exit (${p.result!.code}) in ${p.result!.afterDeleteMs} ms`),
      );
    }
    t.diagnostic(
      `rollout ${rolloutMs} ms; keep-alive: ${f.keepAlive.ok} ok, ${f.keepAlive.failed} failed (${describeErrors(f.keepAlive)}); new connections: ${f.newConnections.ok} ok, ${f.newConnections.failed} failed (${describeErrors(f.newConnections)})`,
    );
    return f;
  } catch (err) {
    for (const p of deployment.pods) t.diagnostic(`${p.name} said: ${p.output.slice(-20).join(' | ')}`);
    throw err;
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
    await Promise.all(deployment.live().map((p) => p.delete()));
    service.close();
  }
}

test("a rolling update under load with the example's settings loses no request", {
  skip: unshareSkip,
  timeout: 60_000,
}, async (t) => {
  const { engine } = await masterOptions(w.argv);
  const f = await rollingUpdate(t, w.argv);
  assert.equal(f.keepAlive.failed, 0, describeErrors(f.keepAlive));
  assert.equal(f.newConnections.failed, 0, describeErrors(f.newConnections));
  assert.equal(f.service.noEndpoint, 0, 'the Service always had an endpoint');
  assert.ok(f.keepAlive.ok > 200 && f.newConnections.ok > 50, 'load went through');
  for (const p of f.old) {
    const s = f.service.stats.get(p)!;
    assert.equal(p.result?.killed, false, `${p.name} stopped by itself before the grace period`);
    assert.ok(stoppedWell(p), `${p.name} exited with ${p.result?.code}`);
    // The mechanism, not luck: the pod left the endpoints before its drain began.
    assert.ok(s.removedAt! - p.deletedAt! < engine.drainDelay, `${p.name} left the endpoints in time`);
    assert.equal(s.failed, 0);
  }
  for (const p of f.current) assert.ok(f.service.stats.get(p)!.connections > 0, `${p.name} took traffic`);
  for (const p of pods) assert.equal(p.livenessFailures, 0, `${p.name} stayed live`);
});

test('with drainDelay 0, everything else equal, the same rolling update loses requests', {
  skip: unshareSkip,
  timeout: 60_000,
}, async (t) => {
  const f = await rollingUpdate(t, withFlag(w.argv, 'drain-delay', '0'));
  const failed = f.keepAlive.failed + f.newConnections.failed;
  assert.ok(failed > 0, 'requests failed');
  for (const p of f.old) {
    const s = f.service.stats.get(p)!;
    assert.ok(stoppedWell(p), `${p.name} exited with ${p.result?.code}`);
    // The race: the pod stopped while the Service still sent it connections, which it refused.
    assert.ok(
      p.result!.afterDeleteMs < s.removedAt! - p.deletedAt!,
      `${p.name} exited before it left the endpoints`,
    );
  }
  assert.ok(
    f.old.some((p) => f.service.stats.get(p)!.failed > 0),
    'connections were refused or reset by a stopped pod',
  );
  for (const p of f.current) assert.equal(f.service.stats.get(p)!.failed, 0);
});
