// One master's decision from a release manifest (fetcher/manifest.ts): roll back (the version it
// runs is marked bad), take the manifest's version (this master is in its share now), or hold.
// Pure: the fleet id, the clock and what the master runs come in, so it is tested without
// processes. The share test is a hash of (fleet id, version) mapped to [0, 100): a master is in
// when its point is below the percent, so raising the percent only ever adds masters, and each
// version draws a cohort of its own. No master needs to know of any other.
import { createHash } from 'node:crypto';
import { currentStep, type ReleaseManifest } from '../fetcher/manifest.js';

/** Where a master falls for a version: a number in [0, 100), the same wherever it is computed. */
export function sharePoint(fleetId: string, version: string): number {
  const digest = createHash('sha256').update(`${fleetId}\n${version}`).digest();
  return (digest.readUIntBE(0, 6) / 2 ** 48) * 100;
}

/** What the master runs: its label when known, and the hashes that name it (entry file, archive). */
export interface RunningVersion {
  label: string | undefined;
  /** Full sha256s, or the 16-hex-digit id a release directory is named by. */
  hashes: readonly string[];
}

export type RolloutAction = 'take' | 'hold' | 'roll-back';

/**
 * Why, in one word: `running-bad` (roll back), `in-share` (take), or for a hold `running` (it
 * runs the manifest's version), `marked-bad` (the version is in `bad`), `known-bad` (it failed on
 * this master before), `halted`, `out-of-share`.
 */
export type RolloutReason =
  | 'running-bad'
  | 'in-share'
  | 'running'
  | 'marked-bad'
  | 'known-bad'
  | 'halted'
  | 'out-of-share';

export interface RolloutDecision {
  action: RolloutAction;
  reason: RolloutReason;
  /** The share now, and its step (1-based; 0 before the first; null for a plain percent). */
  percent: number;
  step: number | null;
  /** This master's point for the version, and whether it is below the percent. */
  point: number;
  inShare: boolean;
}

/** True when `hash` (a full sha256) names the same version as `known` (a full one, or a release id). */
export function sameVersion(hash: string, known: string): boolean {
  const h = hash.toLowerCase();
  return h === known || (known.length === 16 && /^[0-9a-f]{16}$/.test(known) && h.startsWith(known));
}

/** True when one of `bad` names this version, by its label or by a hash. */
export function markedBad(bad: readonly string[], v: RunningVersion): boolean {
  return bad.some((b) => b === v.label || v.hashes.some((h) => sameVersion(b, h)));
}

export function decide(
  m: ReleaseManifest,
  fleetId: string,
  now: number,
  running: RunningVersion,
  knownBad: (sha256: string) => boolean,
): RolloutDecision {
  const { percent, step } = currentStep(m.rollout, now);
  const point = sharePoint(fleetId, m.version);
  const inShare = point < percent;
  const decision = (action: RolloutAction, reason: RolloutReason): RolloutDecision => ({
    action,
    reason,
    percent,
    step,
    point,
    inShare,
  });
  if (markedBad(m.bad, running)) return decision('roll-back', 'running-bad');
  if (running.label === m.version || running.hashes.some((h) => sameVersion(m.sha256, h))) {
    return decision('hold', 'running');
  }
  if (markedBad(m.bad, { label: m.version, hashes: [m.sha256] })) return decision('hold', 'marked-bad');
  if (knownBad(m.sha256)) return decision('hold', 'known-bad');
  if (m.halt) return decision('hold', 'halted');
  return inShare ? decision('take', 'in-share') : decision('hold', 'out-of-share');
}
