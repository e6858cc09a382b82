// One pod as its kubelet runs it: the container's command as PID 1 of a pid namespace of its
// own (as a container runtime starts it, without a shell), the readiness and liveness probes at
// their periods with their timeouts and thresholds, and deletion: SIGTERM to PID 1, then SIGKILL
// to it (and so to the whole namespace) at the grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { PID_NAMESPACE } from '../pid-namespace.js';
import { childrenOf } from '../process.js';
import type { Probe } from './workload.js';

export interface PodSpec {
  name: string;
  /** The Deployment's template revision it was made from. */
  revision: number;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** The loopback port where a container port is reached (the pod's IP is 127.0.0.1). */
  hostPort(containerPort: number): number;
  readiness: Probe;
  liveness: Probe | undefined;
  graceMs: number;
}

export interface PodExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** SIGKILLed at the grace period. */
  killed: boolean;
  /** ms from the deletion (SIGTERM) to the exit; NaN when it was not deleted. */
  afterDeleteMs: number;
}

/** What the kubelet would answer on a probe: a 2xx or 3xx within the timeout. */
function httpProbe(port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path, agent: false, headers: { 'User-Agent': 'kube-probe/1.31' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode! >= 200 && res.statusCode! < 400));
        res.on('error', () => resolve(false));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('probe timeout')), timeoutMs);
    req.on('error', () => resolve(false));
    req.on('close', () => clearTimeout(timer));
  });
}

export class Pod extends EventEmitter<{ ready: [boolean]; exit: [PodExit] }> {
  readonly name: string;
  readonly revision: number;
  /** The container's command line. */
  readonly argv: readonly string[];
  /** The kubelet's readiness: what the Deployment and the endpoints follow. */
  ready = false;
  /** When it was deleted (Date.now()), if it was. */
  deletedAt: number | undefined;
  result: PodExit | undefined;
  readonly exited: Promise<PodExit>;
  /** Times the liveness probe failed failureThreshold times in a row (a kubelet restarts it). */
  livenessFailures = 0;
  /** The last lines of the container's output. */
  readonly output: string[] = [];
  readonly #spec: PodSpec;
  readonly #pid1: Promise<number>;
  readonly #runtime: ChildProcess;
  /** Aborted at the exit: the probes' waits end with it. */
  readonly #gone = new AbortController();
  #killed = false;

  constructor(spec: PodSpec) {
    super();
    this.#spec = spec;
    this.name = spec.name;
    this.revision = spec.revision;
    this.argv = spec.argv;
    const runtime = spawn(PID_NAMESPACE[0], [...PID_NAMESPACE.slice(1), ...spec.argv], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#runtime = runtime;
    for (const stream of [runtime.stdout, runtime.stderr]) {
      readline.createInterface({ input: stream }).on('line', (l) => {
        this.output.push(l);
        if (this.output.length > 200) this.output.shift();
        if (process.env.TEST_VERBOSE) console.error(`[${this.name}] ${l}`);
      });
    }
    this.exited = new Promise((resolve) => {
      runtime.once('exit', (code, signal) => {
        this.result = {
          code,
          signal,
          killed: this.#killed,
          afterDeleteMs: this.deletedAt === undefined ? Number.NaN : Date.now() - this.deletedAt,
        };
        this.#gone.abort();
        this.#setReady(false); // the container is gone: the pod is not ready
        this.emit('exit', this.result);
        resolve(this.result);
      });
    });
    // PID 1 of the namespace: unshare's only child.
    this.#pid1 = (async () => {
      for (let i = 0; i < 1000 && this.result === undefined; i++) {
        const [pid] = childrenOf(runtime.pid!);
        if (pid !== undefined) return pid;
        await sleep(5);
      }
      throw new Error(`${spec.name}: no PID 1 under unshare ${runtime.pid}`);
    })();
    this.#pid1.catch(() => {});
    const start = Date.now();
    let run = { ok: 0, failed: 0 };
    void this.#probe(spec.readiness, start, (ok) => {
      run = ok ? { ok: run.ok + 1, failed: 0 } : { ok: 0, failed: run.failed + 1 };
      if (run.ok >= spec.readiness.successThreshold) this.#setReady(true);
      if (run.failed >= spec.readiness.failureThreshold) this.#setReady(false);
    });
    if (spec.liveness) {
      const threshold = spec.liveness.failureThreshold;
      let failed = 0;
      void this.#probe(spec.liveness, start, (ok) => {
        failed = ok ? 0 : failed + 1;
        if (failed >= threshold) {
          this.livenessFailures++;
          failed = 0;
        }
      });
    }
  }

  #setReady(ready: boolean): void {
    if (this.ready === ready) return;
    this.ready = ready;
    this.emit('ready', ready);
  }

  /** A kubelet's probe worker: at initialDelay, then every period, until the container exits. */
  async #probe(p: Probe, start: number, result: (ok: boolean) => void): Promise<void> {
    let next = start + p.initialDelayMs;
    while (this.result === undefined) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal: this.#gone.signal }).catch(() => {});
      if (this.result !== undefined) return;
      const ok = await httpProbe(this.#spec.hostPort(p.port), p.path, p.timeoutMs);
      if (this.result !== undefined) return;
      result(ok);
      // A ticker: a probe that ran over its period skips the ticks it missed.
      next += p.periodMs;
      while (next <= Date.now()) next += p.periodMs;
    }
  }

  /** The deletion: SIGTERM to PID 1 now, SIGKILL at the grace period; resolves at the exit. */
  async delete(): Promise<PodExit> {
    if (this.deletedAt === undefined && this.result === undefined) {
      this.deletedAt = Date.now();
      const pid = await this.#pid1;
      const signal = (s: NodeJS.Signals): void => {
        try {
          process.kill(pid, s);
        } catch {} // it has exited already
      };
      signal('SIGTERM');
      const timer = setTimeout(() => {
        this.#killed = true;
        signal('SIGKILL');
      }, this.#spec.graceMs);
      void this.exited.then(() => clearTimeout(timer));
    }
    return this.exited;
  }

  /** For cleanup after a failed test: SIGKILL, which ends every process of the namespace. */
  async kill(): Promise<void> {
    if (this.result !== undefined) return;
    try {
      process.kill(await this.#pid1, 'SIGKILL');
    } catch {
      this.#runtime.kill('SIGKILL');
    }
    await this.exited;
  }
}
