// What `overseer run` loads into every worker of an unmodified app (`node --import`), before
// the app's first line. In a worker it routes the app's listens to the master and drains
// them when the worker is retired; in a new version's sanity check it reports the app ready
// without letting it touch a socket. Either way it reads the worker contract once, and it is gone.
import { isSanityCheck } from '../contract/bin-check.js';
import { takeWorkerEnvironment } from '../contract/env.js';
import { startSanityCheck } from './sanity.js';
import { startAppWorker } from './worker.js';

const env = takeWorkerEnvironment('app');
if (isSanityCheck()) startSanityCheck(env.ready);
else startAppWorker(env);
