// Preloaded with --import in the module-boundary and cluster tests: records every module this process
// loads (ESM through a loader hook, CommonJS through require's cache, builtins through
// process.moduleLoadList, addons through the shared objects the process report lists, which
// sees one opened with process.dlopen as well as one require()d) into
// $RECORD_MODULES_DIR/<role>-<pid>.json when it exits; and each address its code asked
// net.isIPv6() about, which compiles Node's IPv6 regular expression at its first call (3.5 to
// 4.7 ms of a process's start on the bench host).
import fs from 'node:fs';
import { createRequire, register } from 'node:module';
import path from 'node:path';

const dir = process.env.RECORD_MODULES_DIR;
if (dir) {
  // A worker has an IPC channel to its master; the masters under test are started without one.
  // (Asked this way because a cluster worker's --require preload has read its env before us.)
  const role = typeof process.send === 'function' ? 'worker' : 'master';
  const esmLog = path.join(dir, `${role}-${process.pid}.esm`);
  register(new URL('./record-modules-hooks.mjs', import.meta.url), { data: { log: esmLog } });
  const require = createRequire(import.meta.url);
  const net = process.getBuiltinModule('node:net');
  const isIPv6 = net.isIPv6;
  const ipv6Checks = [];
  net.isIPv6 = (address) => {
    ipv6Checks.push(String(address));
    return isIPv6(address);
  };
  process.on('exit', () => {
    const esm = fs.existsSync(esmLog) ? fs.readFileSync(esmLog, 'utf8').split('\n').filter(Boolean) : [];
    const cjs = Object.keys(require.cache);
    const builtins = process.moduleLoadList
      .filter((m) => m.startsWith('NativeModule '))
      .map((m) => m.slice(13));
    const addons = (process.report.getReport().sharedObjects ?? []).filter((p) => p.endsWith('.node'));
    fs.writeFileSync(
      path.join(dir, `${role}-${process.pid}.json`),
      JSON.stringify({ role, esm, cjs, builtins, addons, ipv6Checks }),
    );
  });
}
