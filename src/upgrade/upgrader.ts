// The fetch loop and the upgrade pipeline: fetch → stage → verify → preUpgrade → sanity
// check → swap → overlapping restart → commit, or roll back. One cycle runs at a time: a
// trigger during a cycle joins it, except that it cuts short a fetcher that is only
// waiting for its interval. Every failure leaves the running version serving, untouched.
// A fetcher in manifest mode answers with a release manifest instead, which the release
// follower (release-follower.ts) decides from: take its version through this pipeline, hold,
// or roll back from a version marked bad to one kept on disk, through the same sanity check,
// swap, restart and health window (switchBack).
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { codedError, errorCode, errorMessage } from '../errors.js';
import {
  type FetchedManifest,
  type FetchedVersion,
  type Fetcher,
  isFetchedManifest,
} from '../fetcher/fetcher.js';
import { DEFAULT_MAX_BYTES } from '../fetcher/limits.js';
import { hashFile } from '../hash.js';
import { debug, warn } from '../log.js';
import type { Binary } from '../master/binary.js';
import type { RestartResult, RolloutEvent, UpdateOutcome, UpgradeEvent } from '../master/events.js';
import type { UpdaterStatus } from '../master/status.js';
import type { HealthVerdict } from '../master/upgrade-health-window.js';
import { sleep } from '../sleep.js';
import {
  checkArchive,
  extractRelease,
  isArchive,
  pruneReleases,
  releaseLayout,
  restoreCurrent,
  STAGED_ARCHIVE,
  sweepReleases,
  switchCurrent,
} from './archive.js';
import { fleetIdOf } from './fleet-id.js';
import type { KeptVersion } from './kept-version.js';
import { ReleaseFollower } from './release-follower.js';
import { runSanityCheck } from './run-sanity-check.js';
import { stage, sweepStaging } from './stage.js';
import { rollBack, swapIn } from './swap.js';
import { verifyCandidate } from './verify.js';

export interface UpdaterOptions {
  minFetchInterval: number;
  /** Release archives to keep beside the running and the previous one. */
  keepReleases: number;
  sanityCheckTimeout: number;
  noRestartAfterFetch: boolean;
  preUpgrade: ((tempPath: string) => void | Promise<void>) | undefined;
  /** ms after the new workers are ready during which a crash rolls the upgrade back. */
  upgradeHealthWindow: number;
  /** config.fleetId: this master's id for a release manifest's share; unset: made from the machine's. */
  fleetId?: string | undefined;
  /** The app's name, which the default fleet id is made from; unset: binPath's base name. */
  appName?: string | undefined;
}

/** What the updater needs from the master. */
export interface UpdaterHost {
  readonly binary: Binary;
  getHash(): string;
  setHash(hash: string): void;
  restart(reason: string): Promise<RestartResult>;
  /** An error when a worker crashes within `ms`; 'passed' once it passes, 'stopped' when `signal` aborts. */
  watchHealth(ms: number, signal: AbortSignal): Promise<HealthVerdict>;
  /** Runs a switch (swap to commit or undo) while no master handoff runs; by default at once. */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
  onUpgrade(event: UpgradeEvent): void;
  /** What the master made of a release manifest, when that changes. */
  onRollout?(event: RolloutEvent): void;
  /** A fetcher that cannot start at all. */
  onError(err: Error): void;
}

interface Cycle {
  promise: Promise<UpdateOutcome>;
  immediate: boolean;
  phase: 'fetch' | 'process';
  abort: AbortController;
}

const TRIGGERED = Symbol('triggered');

export class Upgrader {
  private cycle: Cycle | undefined;
  private stopped = false;
  private readonly stopController = new AbortController();
  /** When the last cycle started, on the monotonic clock (a step of the wall clock moves no interval). */
  private lastStart = Number.NEGATIVE_INFINITY;
  private readonly bad = new Set<string>();
  /** Known-bad versions whose refusal was reported (warning, event): once is enough. */
  private readonly reportedBad = new Set<string>();
  private readonly stats = { fetches: 0, fetchErrors: 0, upgrades: 0, upgradeFailures: 0, rollbacks: 0 };
  private lastCheck: Date | undefined;
  private lastResult: UpdateOutcome | undefined;
  #fleetId: string | undefined;
  /** What a fetcher in manifest mode answers is followed here. */
  private readonly follower: ReleaseFollower;

  constructor(
    private readonly fetcher: Fetcher,
    private readonly opts: UpdaterOptions,
    private readonly host: UpdaterHost,
  ) {
    this.follower = new ReleaseFollower({
      binPath: host.binary.path,
      runningHash: () => host.getHash(),
      bad: this.bad,
      fleetId: () => this.fleetId(),
      upgrade: (version, signal) => this.upgrade(version, signal),
      switchBack: (to, label, signal) => this.switchBack(to, label, signal),
      fetchFailed: (err) => {
        this.stats.fetchErrors++;
        return fail(err, 'fetch failed');
      },
      onRollout: (event: RolloutEvent) => host.onRollout?.(event),
    });
  }

  /** Made at the first manifest, so a plain fetcher never reads the machine's id. */
  private fleetId(): string {
    const binPath = this.host.binary.path;
    this.#fleetId ??= fleetIdOf(this.opts.fleetId, this.opts.appName ?? path.parse(binPath).name);
    return this.#fleetId;
  }

  /** Versions that failed before (a master handoff brings the old master's): never tried again. */
  rememberBad(hashes: readonly string[]): void {
    for (const h of hashes) this.bad.add(h);
  }

  /** Starts the background loop. It never delays the first worker. */
  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.stopController.abort(codedError(Error, 'ERR_OVERSEER_SHUTTING_DOWN', 'overseer: shutting down'));
    this.cycle?.abort.abort(this.stopController.signal.reason);
  }

  /** One immediate cycle, or the one already under way. */
  trigger(): Promise<UpdateOutcome> {
    const running = this.cycle;
    if (running && !(running.phase === 'fetch' && !running.immediate)) return running.promise;
    running?.abort.abort(TRIGGERED); // a fetcher that is only waiting: check now instead
    return this.run(true);
  }

  status(): UpdaterStatus {
    return {
      checking: this.cycle !== undefined,
      lastCheck: this.lastCheck?.toISOString() ?? null,
      lastResult: this.lastResult ?? null,
      badHashes: [...this.bad],
      ...this.stats,
      release: this.follower.status(),
    };
  }

  private async loop(): Promise<void> {
    try {
      await this.fetcher.init?.();
    } catch (err) {
      warn(`fetcher init failed, no automatic updates: ${errorMessage(err)}`, 'OVERSEER_FETCH_INIT');
      this.host.onError(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    while (!this.stopped) {
      // A cycle cut short by a trigger hands over to the triggered one; wait for that too.
      await (this.cycle?.promise ?? this.run(false)).catch(() => {});
    }
  }

  private run(immediate: boolean): Promise<UpdateOutcome> {
    const abort = new AbortController();
    const cycle: Cycle = {
      promise: Promise.resolve({ result: 'no-update' }),
      immediate,
      phase: 'fetch',
      abort,
    };
    cycle.promise = this.runCycle(cycle).finally(() => {
      if (this.cycle === cycle) this.cycle = undefined;
    });
    this.cycle = cycle;
    return cycle.promise;
  }

  private async runCycle(cycle: Cycle): Promise<UpdateOutcome> {
    const signal = AbortSignal.any([cycle.abort.signal, this.stopController.signal]);
    // minFetchInterval between the starts of two cycles, triggered ones included.
    // Always through a timer, so a fetcher that answers at once cannot starve the event loop.
    const wait = Math.max(0, this.lastStart + this.opts.minFetchInterval - performance.now());
    try {
      await sleep(wait, signal);
    } catch {
      return { result: 'no-update' }; // cut short: by a trigger, or shutdown
    }
    this.lastStart = performance.now();
    this.sweep(); // no staging of this master's is under way as a cycle starts

    let got: Readable | FetchedVersion | FetchedManifest | null;
    try {
      got = await this.fetcher.fetch(signal, { immediate: cycle.immediate });
      this.stats.fetches++;
    } catch (err) {
      if (signal.aborted) return { result: 'no-update' }; // cut short: by a trigger, or shutdown
      this.stats.fetchErrors++;
      return this.finish(performance.now(), fail(err, 'fetch failed'));
    }
    this.lastCheck = new Date();
    const t0 = performance.now();
    if (got === null) return this.finish(t0, { result: 'no-update' });
    if (isFetchedManifest(got)) {
      if (signal.aborted) return { result: 'no-update' };
      cycle.phase = 'process';
      return this.finish(t0, await this.follow(got));
    }
    const version: FetchedVersion = got instanceof Readable ? { stream: got } : got;
    if (signal.aborted) {
      version.stream.destroy();
      return { result: 'no-update' };
    }
    cycle.phase = 'process';
    return this.finish(t0, await this.upgrade(version, this.stopController.signal));
  }

  private async follow(got: FetchedManifest): Promise<UpdateOutcome> {
    try {
      return await this.follower.follow(got, this.stopController.signal);
    } catch (err) {
      return fail(err, 'following the release manifest failed');
    }
  }

  private async upgrade(version: FetchedVersion, signal: AbortSignal): Promise<UpdateOutcome> {
    try {
      return isArchive(version.name)
        ? await this.upgradeRelease(version, signal)
        : await this.upgradeFile(version, signal);
    } catch (err) {
      version.stream.destroy();
      return fail(err); // the master's warning and error already say "upgrade failed"
    }
  }

  /** Back to a version kept on disk, for a release manifest that marked the running one bad. */
  private async switchBack(
    to: KeptVersion,
    label: string | undefined,
    signal: AbortSignal,
  ): Promise<UpdateOutcome> {
    try {
      return to.kind === 'file'
        ? await this.switchToFile(to, label, signal)
        : await this.switchToRelease(to, label);
    } catch (err) {
      return fail(err, 'rollback failed');
    }
  }

  /** Back to `<binPath>.prev`: a copy of it is staged and swapped in, so the bad one becomes .prev. */
  private async switchToFile(
    to: KeptVersion & { kind: 'file' },
    label: string | undefined,
    signal: AbortSignal,
  ): Promise<UpdateOutcome> {
    const binPath = this.host.binary.path;
    const staged = await stage(fs.createReadStream(to.path), binPath, signal);
    try {
      return await this.switchOver({ version: label }, staged.sha256, staged.sha256, staged.tempPath, {
        swap: () => swapIn(staged.tempPath, binPath, this.host.binary.sea),
        undo: () => rollBack(binPath),
        reason: 'rollback',
      });
    } finally {
      fs.rmSync(staged.tempPath, { force: true });
    }
  }

  /** Back to a kept release directory: `current` points at it again. */
  private switchToRelease(
    to: KeptVersion & { kind: 'release' },
    label: string | undefined,
  ): Promise<UpdateOutcome> {
    const layout = releaseLayout(this.host.binary.path);
    let previous = '';
    return this.switchOver({ version: label }, to.id, to.sha256, to.entry, {
      swap: () => {
        previous = switchCurrent(layout.current, to.dir);
      },
      undo: () => restoreCurrent(layout.current, previous),
      reason: 'rollback',
    });
  }

  /** A new entry file: staged beside binPath, swapped in by rename, rolled back from .prev. */
  private async upgradeFile(version: FetchedVersion, signal: AbortSignal): Promise<UpdateOutcome> {
    const binPath = this.host.binary.path;
    const staged = await stage(version.stream, binPath, signal);
    try {
      const early = this.screen(staged.sha256, staged.sha256, version);
      if (early) return early;
      verifyCandidate(staged, version);
      return await this.switchOver(version, staged.sha256, staged.sha256, staged.tempPath, {
        swap: () => swapIn(staged.tempPath, binPath, this.host.binary.sea),
        undo: () => rollBack(binPath),
      });
    } finally {
      fs.rmSync(staged.tempPath, { force: true }); // gone already when it was swapped in
    }
  }

  /** A release archive: extracted to releases/<id>/ and switched in with the `current` symlink. */
  private async upgradeRelease(version: FetchedVersion, signal: AbortSignal): Promise<UpdateOutcome> {
    const layout = releaseLayout(this.host.binary.path);
    fs.mkdirSync(layout.releases, { recursive: true });
    const staged = await stage(version.stream, path.join(layout.releases, STAGED_ARCHIVE), signal, null);
    const dest = path.join(layout.releases, staged.sha256.slice(0, 16));
    let extracted = false;
    let switched = false;
    try {
      if (this.running(dest)) {
        version.commit?.();
        return { result: 'no-update' };
      }
      const early = this.screen(staged.sha256, '', version);
      if (early) return early;
      verifyCandidate(staged, version);
      await checkArchive(staged.tempPath, archiveLimit(version));
      await extractRelease(staged.tempPath, dest);
      extracted = true;
      const entry = path.join(dest, layout.entry);
      if (!fs.existsSync(entry)) {
        throw codedError(Error, 'ERR_OVERSEER_ARCHIVE_ENTRY', `the release has no ${layout.entry}`);
      }
      let previous = '';
      const outcome = await this.switchOver(version, staged.sha256, await hashFile(entry), entry, {
        swap: () => {
          previous = switchCurrent(layout.current, dest);
          switched = true;
        },
        undo: () => {
          restoreCurrent(layout.current, previous);
          switched = false;
        },
      });
      if (switched) {
        const keep = [dest, path.resolve(path.dirname(layout.current), previous)];
        pruneReleases(layout.releases, this.opts.keepReleases, keep);
      }
      return outcome;
    } finally {
      fs.rmSync(staged.tempPath, { force: true });
      if (extracted && !switched && !this.running(dest)) fs.rmSync(dest, { recursive: true, force: true });
    }
  }

  /** What a master that is gone left while staging (beside binPath, and in releases/ if there is one). */
  private sweep(): void {
    const binPath = this.host.binary.path;
    sweepStaging(binPath);
    let releases: string | undefined;
    try {
      releases = releaseLayout(binPath).releases;
    } catch {} // no release layout: no archives
    if (releases !== undefined) sweepReleases(releases);
  }

  /** True when `current` already points at `dir`. */
  private running(dir: string): boolean {
    try {
      return fs.realpathSync(releaseLayout(this.host.binary.path).current) === fs.realpathSync(dir);
    } catch {
      return false;
    }
  }

  /** The cheap refusals: the running version itself (committed, no update), or a known-bad one. */
  private screen(id: string, entryHash: string, version: FetchedVersion): UpdateOutcome | undefined {
    if (entryHash !== '' && entryHash === this.host.getHash()) {
      debug('fetched version is the running one (%s)', entryHash.slice(0, 12));
      version.commit?.();
      return { result: 'no-update' };
    }
    if (this.bad.has(id)) {
      // As settled as the running one: a fetcher with validators stops offering (and
      // downloading) it until its source changes.
      version.commit?.();
      const reason = 'this version failed to start before';
      return { result: 'failed', reason, code: 'ERR_OVERSEER_KNOWN_BAD', newHash: id, rolledBack: false };
    }
    return undefined;
  }

  /**
   * preUpgrade, the sanity check, the swap and the overlapping restart; the commit on
   * success, and on failure the undo, so the old workers (which never stopped) keep serving.
   */
  private async switchOver(
    version: Pick<FetchedVersion, 'version' | 'commit'>,
    id: string,
    newHash: string,
    candidate: string,
    step: { swap(): void; undo(): void; reason?: string },
  ): Promise<UpdateOutcome> {
    if (this.opts.preUpgrade) {
      try {
        await this.opts.preUpgrade(candidate);
      } catch (err) {
        throw codedError(
          Error,
          'ERR_OVERSEER_PRE_UPGRADE',
          `preUpgrade cancelled the upgrade: ${errorMessage(err)}`,
          err,
        );
      }
    }
    const { command, args, env } = this.host.binary.commandFor(candidate);
    await runSanityCheck(command, args, this.opts.sanityCheckTimeout, env);
    const exclusive = this.host.exclusive ?? ((fn) => fn());
    return exclusive(() => this.switchTo(version, id, newHash, step));
  }

  /**
   * The swap and the overlapping restart; the commit once the version is healthy, otherwise the
   * undo. It runs while no master handoff does (host.exclusive): a new master never starts on a
   * version this one may yet roll back, nor hashes a file that is about to change under it.
   */
  private async switchTo(
    version: Pick<FetchedVersion, 'version' | 'commit'>,
    id: string,
    newHash: string,
    step: { swap(): void; undo(): void; reason?: string },
  ): Promise<UpdateOutcome> {
    if (this.stopped) {
      throw codedError(
        Error,
        'ERR_OVERSEER_SHUTTING_DOWN',
        'overseer: shutting down (a new master took over)',
      );
    }
    const oldHash = this.host.getHash();
    step.swap();
    this.host.setHash(newHash);
    const label = version.version ? { version: version.version } : {};
    if (this.opts.noRestartAfterFetch) {
      version.commit?.();
      return { result: 'upgraded', oldHash, newHash, ...label, restarted: false };
    }
    const restarted = await this.host.restart(step.reason ?? 'upgrade');
    // Ready is not enough: a version that crashes soon after is rolled back all the same.
    // A restart the master's stop cut short proved nothing either way, as a window cut short.
    const stopped = this.stopController.signal.aborted ? 'stopped' : undefined;
    const health = restarted.ok
      ? await this.host.watchHealth(this.opts.upgradeHealthWindow, this.stopController.signal)
      : stopped;
    // A rollback is to a version that ran here before: a stop inside its window keeps it.
    if (health === 'passed' || (health === 'stopped' && step.reason === 'rollback')) {
      version.commit?.();
      return { result: 'upgraded', oldHash, newHash, ...label, restarted: true };
    }
    // Any slot that already switched is restarted onto the old version again.
    step.undo();
    this.host.setHash(oldHash);
    if (health === 'stopped') {
      // Not proven, nor known bad: the next start runs the old version, and may take this again.
      const reason = `the master stopped before the new version was ready and through upgradeHealthWindow (${this.opts.upgradeHealthWindow} ms): it is unproven, so the old one is back on disk for the next start`;
      return { result: 'failed', reason, code: 'ERR_OVERSEER_SHUTTING_DOWN', newHash, rolledBack: true };
    }
    this.bad.add(id);
    if (health !== undefined || restarted.replaced > 0) await this.host.restart('rollback');
    if (health !== undefined) {
      const reason = `the new version crashed within upgradeHealthWindow (${this.opts.upgradeHealthWindow} ms): ${health.message}`;
      return { result: 'failed', reason, code: 'ERR_OVERSEER_UPGRADE_UNHEALTHY', newHash, rolledBack: true };
    }
    const reason = `the new version failed to start: ${errorMessage(restarted.error)}`;
    return { result: 'failed', reason, code: 'ERR_OVERSEER_UPGRADE_FAILED', newHash, rolledBack: true };
  }

  private finish(t0: number, outcome: UpdateOutcome): UpdateOutcome {
    this.lastResult = outcome;
    if (outcome.result === 'no-update') return outcome;
    if (outcome.result === 'upgraded') {
      this.stats.upgrades++;
      debug('upgraded %s -> %s', outcome.oldHash.slice(0, 12), outcome.newHash.slice(0, 12));
    } else if (outcome.result === 'rolled-back') {
      this.stats.rollbacks++;
      debug(
        'rolled back from a bad version %s -> %s',
        outcome.oldHash.slice(0, 12),
        outcome.newHash.slice(0, 12),
      );
    } else if (outcome.code === 'ERR_OVERSEER_KNOWN_BAD' && this.reportedBad.has(outcome.newHash ?? '')) {
      // Offered again by a fetcher without validators: said once, answered each time.
      debug('known-bad version %s offered again', outcome.newHash?.slice(0, 12));
      return outcome;
    } else {
      if (outcome.code === 'ERR_OVERSEER_KNOWN_BAD') this.reportedBad.add(outcome.newHash ?? '');
      this.stats.upgradeFailures++;
      warn(`upgrade-failed: ${outcome.reason}`, 'OVERSEER_UPGRADE_FAILED');
    }
    this.host.onUpgrade({ ...outcome, durationMs: Math.round(performance.now() - t0) });
    return outcome;
  }
}

/** `what`: the step that failed, where the error's own message does not say it. */
function fail(err: unknown, what?: string): UpdateOutcome {
  const code = errorCode(err);
  return {
    result: 'failed',
    reason: what === undefined ? errorMessage(err) : `${what}: ${errorMessage(err)}`,
    ...(code === undefined ? {} : { code }),
    rolledBack: false,
  };
}

/** What a release archive may extract to: its fetcher's maxBytes, else the fetchers' default. */
function archiveLimit(version: FetchedVersion): number {
  const max = version.maxBytes;
  if (max === undefined) return DEFAULT_MAX_BYTES;
  if (Number.isSafeInteger(max) && max > 0) return max;
  throw codedError(
    TypeError,
    'ERR_OVERSEER_FETCH_INVALID_RESULT',
    `a fetched version's maxBytes must be a positive integer, got ${String(max)}`,
  );
}
