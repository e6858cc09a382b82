// The fallback when the master/worker model cannot run here (no addon, unsupported
// platform): the program runs in this process with a disabled State, as the Go library
// does. Listeners are plain listen options, so server.listen(state.listener) and
// state.serve() still work; there are no hitless restarts.
import type { ListenAddress } from '../address.js';
import type { ResolvedConfig } from '../config.js';
import type { Listener } from '../contract/listener.js';
import { named, passedFds } from '../os/activation.js';
import { platform } from '../os/index.js';
import { buildState } from './state.js';

export async function startInProcess(config: ResolvedConfig, id: string, binPath: string): Promise<void> {
  const retire = new AbortController();
  for (const sig of platform.shutdownSignals) {
    process.once(sig, () => retire.abort(new Error(`overseer: ${sig}`)));
  }
  const addresses = config.addresses.length > 0 ? config.addresses : activatedByDefault();
  const state = buildState({
    enabled: false,
    id,
    workerId: 0,
    listeners: addresses.flatMap(toListenOptions),
    retire: retire.signal,
    binPath,
    ipcPath: '',
    terminateTimeout: config.terminateTimeout,
    upgradeGrace: config.upgradeGrace,
  });
  await config.program(state);
}

/** With no address, a program started by socket activation listens on what systemd passed. */
function activatedByDefault(): ListenAddress[] {
  return passedFds().length > 0 ? [{ kind: 'systemd', name: undefined, text: 'systemd:' }] : [];
}

function toListenOptions(addr: ListenAddress): Listener[] {
  // systemd's sockets serve this process as they are (net listens on an fd).
  if (addr.kind === 'systemd')
    return named(passedFds(), addr.name).map(({ fd }) => ({ fd, address: addr.text }));
  if (addr.kind === 'unix') return [{ path: addr.path, address: addr.text }];
  return [
    {
      ...(addr.host === '' ? {} : { host: addr.host }),
      port: addr.port,
      address: addr.text,
    },
  ];
}
