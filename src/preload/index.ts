// What `overseer run` loads into every worker of an unmodified app (`node --import`), before
// the app's first line. In a worker it routes the app's listens to the master and drains
// them when the worker is retired; in a new version's sanity check it reports the app ready
// without letting it touch a socket. Either way it reads the worker contract once, and it is gone.

import { takeWorkerEnvironment } from '../contract/env.js';
import { isSanityCheck } from '../contract/sanity-check.js';
import { startSanityCheck } from './app-sanity-check.js';
import { startAppWorker } from './app-worker.js';

const env = takeWorkerEnvironment('app');
if (isSanityCheck()) startSanityCheck(env.ready);
else startAppWorker(env);
