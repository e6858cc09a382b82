// The worker contract of the three start-ups (run(), overseer/cluster, `overseer run`): what each
// master writes, each worker reads back as it was; run()'s names are the process contract; no
// start-up's worker looks like another's; and after reading, nothing of it is left for the
// program's own children: no OVERSEER_* variable, no preload flag.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APP_PRELOAD,
  CLUSTER_PRELOAD,
  CLUSTER_PRELOAD_ESM,
  isWorkerOf,
  isWorkerProcess,
  type Startup,
  takeWorkerEnvironment,
  type WorkerEnv,
  workerEnvironment,
} from '../src/contract/env.js';
import { DEFAULTS } from '../src/option-table.js';

const VALUES: { [S in Startup]: WorkerEnv<S> } = {
  run: {
    workerId: 3,
    masterPid: 4242,
    binHash: 'a'.repeat(64),
    binPath: '/srv/app/current.js',
    numFds: 2,
    ipcPath: '/tmp/overseer-x.sock',
    addresses: ['127.0.0.1:8080', 'unix:/tmp/app.sock'],
  },
  cluster: { workerId: 2, masterPid: 77, terminateTimeout: 1_234, upgradeGrace: 56 },
  app: {
    workerId: 5,
    masterPid: 88,
    terminateTimeout: 9_000,
    upgradeGrace: 0,
    killSignal: 'SIGINT',
    ready: 'message',
  },
};

const STARTUPS = Object.keys(VALUES) as Startup[];

test('each start-up reads back what its master wrote', () => {
  for (const startup of STARTUPS) {
    const env: NodeJS.ProcessEnv = { ...workerEnvironment(startup, VALUES[startup]) };
    assert.deepEqual(takeWorkerEnvironment(startup, env, []), VALUES[startup], startup);
  }
});

test("run() workers get the process contract's names, and the Go library's", () => {
  assert.deepEqual(Object.keys(workerEnvironment('run', VALUES.run)).sort(), [
    'OVERSEER_ADDRESSES',
    'OVERSEER_BIN_ID',
    'OVERSEER_BIN_PATH',
    'OVERSEER_IPC_PATH',
    'OVERSEER_IS_SLAVE',
    'OVERSEER_IS_WORKER',
    'OVERSEER_MASTER_PID',
    'OVERSEER_NUM_FDS',
    'OVERSEER_SLAVE_ID',
    'OVERSEER_WORKER_ID',
  ]);
  const env = workerEnvironment('run', VALUES.run);
  assert.equal(env.OVERSEER_IS_WORKER, '1');
  assert.equal(env.OVERSEER_SLAVE_ID, '3');
  // A worker started by the Go names alone is one too.
  assert.equal(isWorkerProcess({ OVERSEER_IS_SLAVE: '1' }), true);
  assert.equal(takeWorkerEnvironment('run', { OVERSEER_SLAVE_ID: '4' }, []).workerId, 4);
});

test("no start-up's worker looks like another's", () => {
  const names = STARTUPS.map((s) => Object.keys(workerEnvironment(s, VALUES[s])));
  const all = names.flat();
  assert.equal(new Set(all).size, all.length, `a variable is shared: ${all.join(', ')}`);
  const envOf = (s: Startup) => workerEnvironment(s, VALUES[s]);
  assert.deepEqual(
    STARTUPS.map((s) => [s, isWorkerProcess(envOf(s)), isWorkerOf('cluster', envOf(s))]),
    [
      ['run', true, false],
      ['cluster', false, true],
      ['app', false, false],
    ],
  );
});

test('after reading, no OVERSEER_* variable and no preload flag is left, in each start-up', () => {
  const execArgvOf: { [S in Startup]: string[] } = {
    run: ['--enable-source-maps'],
    cluster: ['--require', CLUSTER_PRELOAD, '--enable-source-maps', `--import=${CLUSTER_PRELOAD_ESM}`],
    app: ['--import', APP_PRELOAD, '--enable-source-maps'],
  };
  for (const startup of STARTUPS) {
    const env: NodeJS.ProcessEnv = {
      ...workerEnvironment(startup, VALUES[startup]),
      OVERSEER_SOMETHING_ELSE: 'x',
      HOME: '/home/app',
    };
    const execArgv = execArgvOf[startup];
    takeWorkerEnvironment(startup, env, execArgv);
    assert.deepEqual(env, { HOME: '/home/app' }, startup);
    assert.deepEqual(execArgv, ['--enable-source-maps'], startup);
  }
});

test("a new version's sanity check keeps its token: it answers with it later", () => {
  const env: NodeJS.ProcessEnv = { ...workerEnvironment('app', { ready: 'none' }), OVERSEER_BIN_CHECK: 't' };
  assert.equal(takeWorkerEnvironment('app', env, []).ready, 'none');
  assert.deepEqual(env, { OVERSEER_BIN_CHECK: 't' });
});

test('a missing or bad value reads as its default', () => {
  assert.deepEqual(takeWorkerEnvironment('run', {}, []), {
    workerId: 0,
    masterPid: 0,
    binHash: '',
    binPath: '',
    numFds: 0,
    ipcPath: '',
    addresses: [],
  });
  assert.deepEqual(takeWorkerEnvironment('app', {}, []), {
    workerId: 0,
    masterPid: 0,
    terminateTimeout: DEFAULTS.terminateTimeout,
    upgradeGrace: DEFAULTS.upgradeGrace,
    killSignal: 'SIGTERM',
    ready: 'listening',
  });
  const bad = {
    OVERSEER_CLUSTER_WORKER_ID: '-1',
    OVERSEER_CLUSTER_MASTER_PID: 'x',
    OVERSEER_CLUSTER_TERMINATE_TIMEOUT: 'soon',
    OVERSEER_CLUSTER_UPGRADE_GRACE: '-5',
  };
  assert.deepEqual(takeWorkerEnvironment('cluster', bad, []), {
    workerId: 0,
    masterPid: 0,
    terminateTimeout: DEFAULTS.terminateTimeout,
    upgradeGrace: DEFAULTS.upgradeGrace,
  });
  assert.deepEqual(
    takeWorkerEnvironment('run', { OVERSEER_ADDRESSES: '{not json', OVERSEER_NUM_FDS: '1.5' }, []),
    {
      ...takeWorkerEnvironment('run', {}, []),
    },
  );
  assert.equal(takeWorkerEnvironment('app', { OVERSEER_APP_READY: 'soon' }, []).ready, 'listening');
  // A master that leaves a bound out (cluster.setupPrimary() without one) leaves it to the default.
  const unset = workerEnvironment('cluster', { workerId: 1, masterPid: 2 });
  assert.deepEqual(takeWorkerEnvironment('cluster', { ...unset }, []), {
    workerId: 1,
    masterPid: 2,
    terminateTimeout: DEFAULTS.terminateTimeout,
    upgradeGrace: DEFAULTS.upgradeGrace,
  });
});
