// What `overseer run` loads into every worker of an unmodified app (`node --import`), before
// the app's first line. In a worker it routes the app's listens to the master and drains
// them when the worker is retired; in a new version's sanity check it reports the app ready
// without letting it touch a socket.
import { takeAppEnvironment } from './app-env.js';
import { startSanityCheck } from './sanity.js';
import { startAppWorker } from './worker.js';

const env = takeAppEnvironment();
if (env.check) startSanityCheck(env);
else startAppWorker(env);
