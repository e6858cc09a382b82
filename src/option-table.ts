// The option table: each option of run()'s config (and of `overseer run` and the cluster
// facade) once. This seed holds only the defaults the worker side needs; it imports nothing,
// so a worker can read it without loading the master's code.

/** The defaults that both the master and the worker side read. */
export const DEFAULTS = {
  terminateTimeout: 30_000,
  readyTimeout: 30_000,
  upgradeGrace: 5_000,
} as const;
