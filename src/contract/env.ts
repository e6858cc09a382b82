// The environment that carries the process contract from master to worker (DESIGN.md).
// The worker reads it once and deletes it, so its own children never inherit it.

export const ENV = {
  isWorker: 'OVERSEER_IS_WORKER',
  isSlave: 'OVERSEER_IS_SLAVE',
  workerId: 'OVERSEER_WORKER_ID',
  slaveId: 'OVERSEER_SLAVE_ID',
  binId: 'OVERSEER_BIN_ID',
  binPath: 'OVERSEER_BIN_PATH',
  numFds: 'OVERSEER_NUM_FDS',
  ipcPath: 'OVERSEER_IPC_PATH',
  addresses: 'OVERSEER_ADDRESSES',
  masterPid: 'OVERSEER_MASTER_PID',
  binCheck: 'OVERSEER_BIN_CHECK',
} as const;

export interface WorkerEnv {
  workerId: number;
  binId: string;
  binPath: string;
  numFds: number;
  ipcPath: string;
  addresses: string[];
  masterPid: number;
}

export function isWorkerProcess(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[ENV.isWorker] === '1' || env[ENV.isSlave] === '1';
}

export function workerEnvironment(w: WorkerEnv): Record<string, string> {
  return {
    [ENV.isWorker]: '1',
    [ENV.isSlave]: '1',
    [ENV.workerId]: String(w.workerId),
    [ENV.slaveId]: String(w.workerId),
    [ENV.binId]: w.binId,
    [ENV.binPath]: w.binPath,
    [ENV.numFds]: String(w.numFds),
    [ENV.ipcPath]: w.ipcPath,
    [ENV.addresses]: JSON.stringify(w.addresses),
    [ENV.masterPid]: String(w.masterPid),
  };
}

/** Reads the worker's contract and scrubs every OVERSEER_* variable from process.env. */
export function takeWorkerEnvironment(env: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const numFds = Number(env[ENV.numFds] ?? '0');
  const workerId = Number(env[ENV.workerId] ?? env[ENV.slaveId] ?? '0');
  let addresses: string[] = [];
  try {
    const parsed: unknown = JSON.parse(env[ENV.addresses] ?? '[]');
    if (Array.isArray(parsed)) addresses = parsed.map(String);
  } catch {}
  const result: WorkerEnv = {
    workerId: Number.isInteger(workerId) ? workerId : 0,
    binId: env[ENV.binId] ?? '',
    binPath: env[ENV.binPath] ?? '',
    numFds: Number.isInteger(numFds) && numFds >= 0 ? numFds : 0,
    ipcPath: env[ENV.ipcPath] ?? '',
    addresses,
    masterPid: Number(env[ENV.masterPid] ?? '0'),
  };
  for (const key of Object.keys(env)) {
    if (key.startsWith('OVERSEER_')) delete env[key];
  }
  return result;
}
