// The setups the bench compares. Each starts the same hello app its own way and returns a
// handle: the port, the pid whose RSS counts as the master's, the root of the processes that
// serve, and how to restart and stop it.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CLI } from '../test/support/paths.js';
import { Pm2 } from './pm2.js';
import { freePort, get, NodeProcess, waitForHttp } from './proc.js';

export interface Running {
  port: number;
  /** The supervisor's pid (overseer master, cluster primary, pm2 daemon); undefined for bare node. */
  readonly masterPid: number | undefined;
  /** The root of every process that serves: the supervisor, or bare node's one process. */
  readonly serverPid: number | undefined;
  /** Each restart is a new master (a handoff): its CPU time is not one process's. */
  replacesMaster?: boolean;
  /** One restart of every worker; resolves when the supervisor says it is done, with its duration in ms. */
  restart(): Promise<number>;
  stop(): Promise<unknown>;
}

export interface Peer {
  name: string;
  workers: number;
  start(): Promise<Running>;
}

const app = (file: string): string => fileURLToPath(new URL(`./apps/${file}`, import.meta.url));
const RESTART_TIMEOUT_MS = 30_000;

/** Sends SIGUSR2 and waits for the next {"event":"restart"} line. */
async function signalRestart(p: NodeProcess): Promise<number> {
  const before = p.count('restart');
  p.child.kill('SIGUSR2');
  const e = await p.nth('restart', before + 1, RESTART_TIMEOUT_MS);
  if (e.ok !== true) throw new Error(`restart failed: ${String(e.error)}`);
  return Number(e.durationMs);
}

/** A master we started ourselves, restarted with SIGUSR2. */
function signalled(p: NodeProcess, port: number): Running {
  return { port, masterPid: p.pid, serverPid: p.pid, restart: () => signalRestart(p), stop: () => p.stop() };
}

/** Runs `ready` against a started process; stops the process if it fails. */
async function startedOrStopped(p: NodeProcess, ready: () => Promise<number>): Promise<number> {
  try {
    return await ready();
  } catch (err) {
    await p.stop();
    throw err;
  }
}

/** The overseer bench app with `workers`, once every worker is ready and its port answers. */
async function startOverseer(
  workers: number,
  env: NodeJS.ProcessEnv,
): Promise<{ p: NodeProcess; port: number }> {
  const p = new NodeProcess(app('overseer.js'), { WORKERS: String(workers), ...env });
  const port = await startedOrStopped(p, async () => {
    const addr = String(((await p.nth('listening', 1)).addresses as string[])[0]);
    await p.nth('ready', workers);
    const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
    await waitForHttp(port);
    return port;
  });
  return { p, port };
}

export function overseer(name: string, workers: number, reusePort = false): Peer {
  return {
    name,
    workers,
    async start() {
      const { p, port } = await startOverseer(workers, { REUSE_PORT: reusePort ? '1' : '0' });
      return signalled(p, port);
    },
  };
}

export function bareNode(name: string): Peer {
  return {
    name,
    workers: 1,
    async start() {
      const port = await freePort();
      const p = new NodeProcess(app('plain.js'), { PORT: String(port) });
      await startedOrStopped(p, () => waitForHttp(port).then(() => port));
      return {
        port,
        masterPid: undefined,
        serverPid: p.pid,
        restart: () => Promise.reject(new Error('bare node cannot restart')),
        stop: () => p.stop(),
      };
    },
  };
}

/** node:cluster with its default round-robin (the primary accepts) or SCHED_NONE (the workers do). */
export type SchedulingPolicy = 'rr' | 'none';

export function nodeCluster(
  name: string,
  workers: number,
  worker: 'plain' | 'careful',
  policy: SchedulingPolicy = 'rr',
): Peer {
  return {
    name,
    workers,
    async start() {
      const port = await freePort();
      const p = new NodeProcess(app('cluster.js'), {
        APP: worker,
        WORKERS: String(workers),
        PORT: String(port),
        NODE_CLUSTER_SCHED_POLICY: policy,
      });
      await startedOrStopped(p, async () => {
        await p.nth('listening', 1);
        await waitForHttp(port);
        return port;
      });
      return signalled(p, port);
    },
  };
}

/** POST /overseer/restart over the control socket (what `overseer restart` does); its durationMs. */
async function restartOverSocket(socketPath: string): Promise<number> {
  return (await postOverSocket(socketPath, '/overseer/restart')).durationMs;
}

/** A POST to the control socket that must answer ok. */
function postOverSocket(socketPath: string, route: string): Promise<{ durationMs: number; pid?: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: route, method: 'POST', timeout: RESTART_TIMEOUT_MS },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c;
        });
        res.on('end', () => {
          const r = JSON.parse(body) as { ok: boolean; durationMs: number; pid?: number; error?: string };
          if (r.ok) resolve(r);
          else reject(new Error(`${route} failed: ${r.error}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('reload timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * overseer with a master handoff for a "restart": `overseer reexec` starts a new master on the
 * same sockets, which is ready (its workers are) before the old master drains and exits.
 */
export function overseerHandoff(name: string, workers: number): Peer {
  return {
    name,
    workers,
    async start() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-handoff-'));
      const ipcPath = path.join(dir, 'ctl.sock');
      const { p, port } = await startOverseer(workers, { IPC_PATH: ipcPath });
      let master = p.pid;
      return {
        port,
        get masterPid() {
          return master;
        },
        get serverPid() {
          return master;
        },
        replacesMaster: true,
        restart: async () => {
          const r = await postOverSocket(ipcPath, '/overseer/reexec');
          master = r.pid ?? master;
          return r.durationMs;
        },
        stop: async () => {
          await p.stop();
          try {
            process.kill(master, 'SIGTERM');
          } catch {}
          for (let i = 0; i < 200; i++) {
            try {
              process.kill(master, 0);
            } catch {
              break;
            }
            await sleep(50);
          }
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

/** A setup restarted over its control socket (what `overseer restart` does), kept in a private dir. */
async function restartedOverSocket(
  prefix: string,
  launch: (ipcPath: string, port: number) => { p: NodeProcess; ready: () => Promise<void> },
): Promise<Running> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const ipcPath = path.join(dir, 'ctl.sock');
  const { p, ready } = launch(ipcPath, port);
  await startedOrStopped(p, () => ready().then(() => port));
  return {
    port,
    masterPid: p.pid,
    serverPid: p.pid,
    restart: () => restartOverSocket(ipcPath),
    stop: async () => {
      await p.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The node:cluster primary with overseer/cluster instead, and cluster.reload() for a restart. */
export function overseerCluster(name: string, workers: number): Peer {
  return {
    name,
    workers,
    start: () =>
      restartedOverSocket('overseer-bench-cluster-', (ipcPath, port) => {
        const p = new NodeProcess(app('overseer-cluster.js'), {
          WORKERS: String(workers),
          PORT: String(port),
          IPC_PATH: ipcPath,
        });
        return {
          p,
          ready: async () => {
            await p.nth('listening', 1);
            await waitForHttp(port);
          },
        };
      }),
  };
}

/** The `overseer` command the package ships, as the tests run it. */
export { CLI };

/** `overseer run -w N` (with --reuse-port if asked) with the plain app, unmodified; `overseer restart` for a restart. */
export function overseerRun(name: string, workers: number, reusePort = false): Peer {
  return {
    name,
    workers,
    start: () =>
      restartedOverSocket('overseer-bench-run-', (ipcPath, port) => {
        const args = ['run', '-w', String(workers), '--ipc-path', ipcPath];
        if (reusePort) args.push('--reuse-port');
        args.push(app('plain.js'));
        const p = new NodeProcess(CLI, { PORT: String(port) }, args);
        return {
          p,
          ready: async () => {
            await waitForHttp(port);
            // Every worker listens before the run starts (as the other setups wait for theirs).
            for (let i = 0; i < 100 && !(await readyWorkers(ipcPath, workers)); i++) await sleep(50);
          },
        };
      }),
  };
}

/** Whether the master at `socketPath` has `n` ready workers. */
async function readyWorkers(socketPath: string, n: number): Promise<boolean> {
  try {
    const s = JSON.parse((await get({ socketPath }, '/overseer/status')).body) as {
      workers: { state: string }[];
    };
    return s.workers.filter((w) => w.state === 'ready').length >= n;
  } catch {
    return false; // not up yet
  }
}

export function pm2(
  name: string,
  mode: 'cluster' | 'fork',
  workers: number,
  worker: 'plain' | 'careful',
): Peer {
  return {
    name,
    workers,
    async start() {
      const pm = new Pm2();
      const port = await freePort();
      try {
        await pm.start({
          name: 'bench',
          script: app(`${worker}.js`),
          execMode: mode,
          instances: workers,
          env: { PORT: String(port) },
        });
        await pm.online('bench', workers);
        await waitForHttp(port);
        await sleep(500); // an instance is 'online' once forked, a moment before it listens
      } catch (err) {
        await pm.kill();
        throw err;
      }
      const daemon = pm.daemonPid();
      return {
        port,
        masterPid: daemon,
        serverPid: daemon,
        restart: () => pm.reload('bench'),
        stop: () => pm.kill(),
      };
    },
  };
}
