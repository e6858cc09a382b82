// The master side of run(): make sure this platform and process can be a master, or fall
// back to running the program in-process; then run the master until it is done and exit
// with its code.
import fs from 'node:fs';
import { type Config, resolveConfig } from '../config.js';
import { attachRunningMaster, type Master } from '../current-master.js';
import { codedError, errorMessage } from '../errors.js';
import { hashFile } from '../hash.js';
import { configureLogging, warn } from '../log.js';
import { platform } from '../os/index.js';
import { nativeAvailable, nativeLoadError } from '../os/native.js';
import { type Binary, currentBinary } from './binary.js';
import { exitOnceWritten } from './exit-once-written.js';
import { MasterProcess } from './master-process.js';
import { ProgramHash } from './program-hash.js';

/** `inProcess` is called when there will be no master, so currentMaster() stops naming one. */
export async function startMaster(input: Config, handle: Master, inProcess: () => void): Promise<void> {
  const config = resolveConfig(input);
  configureLogging(config);
  let binary: Binary | undefined;
  let unsupported: string | undefined;
  try {
    binary = currentBinary();
  } catch (err) {
    unsupported = errorMessage(err);
  }
  if (!platform.supported()) unsupported ??= unsupportedReason();
  if (unsupported !== undefined || binary === undefined) {
    if (config.required) {
      throw codedError(
        Error,
        'ERR_OVERSEER_UNSUPPORTED',
        `overseer: ${unsupported} (config.required is set)`,
      );
    }
    inProcess();
    warn(`${unsupported}; running the program in this process without hitless restarts`, 'OVERSEER_DISABLED');
    const bin = binary?.path ?? process.argv[1] ?? '';
    const id = bin && fs.existsSync(bin) ? await hashFile(bin) : '';
    const { startInProcess } = await import('../worker/in-process.js');
    return startInProcess(config, id, bin);
  }
  platform.cleanupAfterUpgrade(binary.path);
  const master = new MasterProcess({
    config,
    binary,
    hash: await ProgramHash.of(binary.path),
    events: handle,
  });
  attachRunningMaster(handle, master);
  await master.start();
  await exitOnceWritten(await master.done);
}

function unsupportedReason(): string {
  if (!nativeAvailable()) return `the native addon is unavailable (${errorMessage(nativeLoadError())})`;
  return `${process.platform} is not supported by this build of the addon`;
}
