// node:cluster's scheduling policy constants, and the policy a primary starts with. overseer
// accepts the setting for node:cluster's sake; either way its workers accept from the shared
// socket, and the primary never accepts (SCHED_RR is what overseer exists to avoid).
export const SCHED_NONE = 1;
export const SCHED_RR = 2;

/** NODE_CLUSTER_SCHED_POLICY, else node:cluster's default for this platform. */
export function policyFromEnv(): number {
  const p = process.env.NODE_CLUSTER_SCHED_POLICY;
  if (p === 'rr') return SCHED_RR;
  if (p === 'none') return SCHED_NONE;
  return process.platform === 'win32' ? SCHED_NONE : SCHED_RR;
}
