// Following a release manifest (fetcher/manifest.ts), for the upgrader: at each check, decide
// (rollout.ts) what the master does with it, keep that for the status, tell it (the 'rollout'
// event) when it changes, and act: take the manifest's version through the upgrader's pipeline,
// hold, or roll back from a version marked bad to the newest good one kept (kept-version.ts).
// It knows versions by label once it has seen them in a manifest; the master's hash and its
// known-bad set are the upgrader's.
import type { FetchedManifest, FetchedVersion } from '../fetcher/fetcher.js';
import type { ReleaseManifest } from '../fetcher/manifest.js';
import { debug } from '../log.js';
import type { RolloutEvent, UpdateOutcome } from '../master/events.js';
import type { ReleaseStatus } from '../master/status.js';
import { type KeptVersion, keptHashes, newestGood, runningReleaseId } from './kept-version.js';
import { decide, markedBad, type RolloutDecision, type RunningVersion, sameVersion } from './rollout.js';

/** What the follower needs of the upgrader. */
export interface Pipeline {
  readonly binPath: string;
  /** The sha256 of the running entry file. */
  runningHash(): string;
  /** Hashes that failed on this master, or that a manifest marked bad: never taken again. */
  readonly bad: Set<string>;
  /** This master's fleet id. */
  fleetId(): string;
  /** A downloaded version, through the whole pipeline. */
  upgrade(version: FetchedVersion, signal: AbortSignal): Promise<UpdateOutcome>;
  /** Back to a kept version, through the sanity check, swap, restart and health window. */
  switchBack(to: KeptVersion, label: string | undefined, signal: AbortSignal): Promise<UpdateOutcome>;
  fetchFailed(err: unknown): UpdateOutcome;
  onRollout?(event: RolloutEvent): void;
}

export class ReleaseFollower {
  /** Versions known by a manifest's label: entry-file hash → the label and the manifest's sha256. */
  readonly #labels = new Map<string, { label: string; sha256: string }>();
  #release: ReleaseStatus | null = null;
  /** The running hash for which a rollback found no good version: said once, not every check. */
  #stuckOn: string | undefined;

  constructor(private readonly pipeline: Pipeline) {}

  /** What it made of the last manifest; null before the first. */
  status(): ReleaseStatus | null {
    return this.#release;
  }

  /** Takes the manifest's version, rolls back from a bad one, or holds. */
  async follow(got: FetchedManifest, signal: AbortSignal): Promise<UpdateOutcome> {
    const m = got.manifest;
    const { action } = this.#decide(m);
    if (action === 'hold') return { result: 'no-update' };
    try {
      return action === 'take' ? await this.#take(got, signal) : await this.#rollBackFrom(got, signal);
    } finally {
      this.#decide(m); // what it runs now
    }
  }

  /** The decision now, kept for the status, and told when it changed. */
  #decide(m: ReleaseManifest): RolloutDecision {
    const running = this.#running(m);
    const fleetId = this.pipeline.fleetId();
    const d = decide(m, fleetId, Date.now(), running, (sha256) => this.pipeline.bad.has(sha256));
    const event: RolloutEvent = {
      fleetId,
      running: running.label ?? null,
      version: m.version,
      percent: d.percent,
      step: d.step,
      point: d.point,
      inShare: d.inShare,
      halted: m.halt,
      decision: d.action,
      reason: d.reason,
    };
    const before = this.#release;
    this.#release = { ...event, manifestAt: new Date().toISOString() };
    if (before === null || JSON.stringify({ ...before, manifestAt: undefined }) !== JSON.stringify(event)) {
      debug('rollout: %s %s (%s)', d.action, m.version, d.reason);
      this.pipeline.onRollout?.(event);
    }
    return d;
  }

  /** What the master runs, by the hashes that name it and, when known, its label. */
  #running(m: ReleaseManifest): RunningVersion {
    const hash = this.pipeline.runningHash();
    const release = runningReleaseId(this.pipeline.binPath);
    let known = this.#labels.get(hash);
    const hashes = [hash, ...(release === undefined ? [] : [release])];
    // It runs the manifest's own version: its label is known from now on, across manifests.
    if (known === undefined && hashes.some((h) => sameVersion(m.sha256, h))) {
      known = { label: m.version, sha256: m.sha256 };
      this.#labels.set(hash, known);
    }
    return { label: known?.label, hashes: known === undefined ? hashes : [...hashes, known.sha256] };
  }

  /** The manifest's version, downloaded and taken through the pipeline. */
  async #take(got: FetchedManifest, signal: AbortSignal): Promise<UpdateOutcome> {
    const m = got.manifest;
    let version: FetchedVersion;
    try {
      version = await got.open(signal);
    } catch (err) {
      return this.pipeline.fetchFailed(err);
    }
    const outcome = await this.pipeline.upgrade(version, signal);
    if (outcome.result !== 'failed') {
      this.#labels.set(this.pipeline.runningHash(), { label: m.version, sha256: m.sha256 });
    } else if (outcome.newHash !== undefined && this.pipeline.bad.has(outcome.newHash)) {
      // The bad set holds the file as it runs; the manifest's sha256 may be of a .gz, so that
      // too, for the next check to hold before any download.
      this.pipeline.bad.add(m.sha256);
    }
    return outcome;
  }

  /**
   * The running version is marked bad: never taken again, and replaced by the newest good
   * version this master kept; with none, by the manifest's version when that is good and not
   * halted (whatever the share: a bad version must not stay).
   */
  async #rollBackFrom(got: FetchedManifest, signal: AbortSignal): Promise<UpdateOutcome> {
    const m = got.manifest;
    const { bad } = this.pipeline;
    const running = this.#running(m);
    const hash = this.pipeline.runningHash();
    for (const h of running.hashes) if (h.length === 64) bad.add(h);
    const isBad = (k: KeptVersion): boolean => {
      const hashes = keptHashes(k);
      const label = this.#labels.get(k.sha256)?.label;
      return hashes.some((h) => bad.has(h)) || markedBad(m.bad, { label, hashes });
    };
    const to = await newestGood(this.pipeline.binPath, isBad);
    if (to === undefined) {
      const manifestVersion = { label: m.version, hashes: [m.sha256] };
      if (!m.halt && !markedBad(m.bad, manifestVersion) && !bad.has(m.sha256)) return this.#take(got, signal);
      if (this.#stuckOn === hash) return { result: 'no-update' };
      this.#stuckOn = hash;
      const which = running.label === undefined ? '' : ` ${running.label}`;
      return {
        result: 'failed',
        reason: `the running version${which} is marked bad in the release manifest, and this master has no good version to go back to`,
        code: 'ERR_OVERSEER_NO_GOOD_VERSION',
        rolledBack: false,
      };
    }
    const label = this.#labels.get(to.sha256)?.label;
    const outcome = await this.pipeline.switchBack(to, label, signal);
    if (outcome.result !== 'upgraded') return outcome;
    return {
      result: 'rolled-back',
      oldHash: outcome.oldHash,
      newHash: outcome.newHash,
      ...(label === undefined ? {} : { version: label }),
      ...(running.label === undefined ? {} : { from: running.label }),
      restarted: outcome.restarted,
    };
  }
}
