// Preloaded with --import in a cluster test: registers a pass-through loader hook, as
// instrumentation and transpilers do, and notes each worker it ran in ($HOOK_LOG).
import fs from 'node:fs';
import { register } from 'node:module';

register(new URL('./loader-hook-hooks.mjs', import.meta.url));
if (typeof process.send === 'function' && process.env.HOOK_LOG) {
  fs.appendFileSync(process.env.HOOK_LOG, `${process.pid}\n`);
}
