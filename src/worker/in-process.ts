// The fallback when the master/worker model cannot run here (no addon, unsupported
// platform): the program runs in this process with a disabled State, as the Go library
// does. Listeners are plain listen options, so server.listen(state.listener) and
// state.serve() still work; there are no hitless restarts.
import type { ListenAddress } from '../address.js';
import type { ResolvedConfig } from '../config.js';
import type { Listener } from '../contract/listener.js';
import { os } from '../os/index.js';
import { Drains } from './drains.js';
import { drainWhatListensOn } from './listen-hook.js';
import { makeState } from './state.js';

export async function runInProcess(config: ResolvedConfig, id: string, binPath: string): Promise<void> {
  const controller = new AbortController();
  for (const sig of os.shutdownSignals) {
    process.once(sig, () => controller.abort(new Error(`overseer: ${sig}`)));
  }
  const listeners = config.addresses.map(toListenOptions);
  const drains = new Drains({
    signal: controller.signal,
    terminateTimeout: config.terminateTimeout,
    upgradeGrace: config.upgradeGrace,
  });
  drainWhatListensOn(listeners, drains);
  const state = makeState({
    enabled: false,
    id,
    workerId: 0,
    listeners,
    gracefulShutdown: controller.signal,
    binPath,
    ipcPath: '',
    drains,
  });
  await config.program(state);
}

function toListenOptions(addr: ListenAddress): Listener {
  if (addr.kind === 'unix') return { path: addr.path, address: addr.text };
  return {
    ...(addr.host === '' ? {} : { host: addr.host }),
    port: addr.port,
    address: addr.text,
  };
}
