// The fetch loop and the upgrade pipeline: fetch → stage → verify → preUpgrade → sanity
// check → swap → overlapping restart → commit, or roll back. One cycle runs at a time: a
// trigger during a cycle joins it, except that it cuts short a fetcher that is only
// waiting for its interval. Every failure leaves the running version serving, untouched.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Binary } from '../binary.js';
import { debug, warn } from '../debug.js';
import { codedError, errorMessage } from '../errors.js';
import type { RestartResult, UpdateOutcome, UpgradeEvent } from '../events.js';
import type { FetchedVersion, Fetcher } from '../fetcher/fetcher.js';
import { runSanityCheck } from './sanity.js';
import { type Staged, stage } from './stage.js';
import { rollBack, swapIn } from './swap.js';
import { verifyCandidate } from './verify.js';

export interface UpdaterOptions {
  minFetchInterval: number;
  sanityCheckTimeout: number;
  noRestartAfterFetch: boolean;
  preUpgrade: ((tempPath: string) => void | Promise<void>) | undefined;
}

/** What the updater needs from the master. */
export interface UpdaterHost {
  readonly binary: Binary;
  getHash(): string;
  setHash(hash: string): void;
  restart(reason: string): Promise<RestartResult>;
  onUpgrade(event: UpgradeEvent): void;
}

export interface UpdaterStatus {
  checking: boolean;
  lastCheck: string | null;
  lastResult: UpdateOutcome | null;
  badHashes: string[];
  fetches: number;
  fetchErrors: number;
  upgrades: number;
  upgradeFailures: number;
}

interface Cycle {
  promise: Promise<UpdateOutcome>;
  immediate: boolean;
  phase: 'fetch' | 'process';
  abort: AbortController;
}

const TRIGGERED = Symbol('triggered');

export class Updater {
  private cycle: Cycle | undefined;
  private stopped = false;
  private readonly stopController = new AbortController();
  private lastStart = 0;
  private readonly bad = new Set<string>();
  private readonly stats = { fetches: 0, fetchErrors: 0, upgrades: 0, upgradeFailures: 0 };
  private lastCheck: Date | undefined;
  private lastResult: UpdateOutcome | undefined;

  constructor(
    private readonly fetcher: Fetcher,
    private readonly opts: UpdaterOptions,
    private readonly host: UpdaterHost,
  ) {}

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
    };
  }

  private async loop(): Promise<void> {
    try {
      await this.fetcher.init?.();
    } catch (err) {
      warn(`fetcher init failed, no automatic updates: ${errorMessage(err)}`, 'OVERSEER_FETCH_INIT');
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
    const wait = Math.max(0, this.lastStart + this.opts.minFetchInterval - Date.now());
    if (!(await sleep(wait, signal))) return { result: 'no-update' };
    this.lastStart = Date.now();

    let got: Readable | FetchedVersion | null;
    try {
      got = await this.fetcher.fetch(signal, { immediate: cycle.immediate });
      this.stats.fetches++;
    } catch (err) {
      if (signal.aborted) return { result: 'no-update' }; // cut short: by a trigger, or shutdown
      this.stats.fetchErrors++;
      return this.finish(Date.now(), fail(err, 'fetch failed'));
    }
    this.lastCheck = new Date();
    const t0 = Date.now();
    if (got === null) return this.finish(t0, { result: 'no-update' });
    const version: FetchedVersion = got instanceof Readable ? { stream: got } : got;
    if (signal.aborted) {
      version.stream.destroy();
      return { result: 'no-update' };
    }
    cycle.phase = 'process';
    return this.finish(t0, await this.upgrade(version, this.stopController.signal));
  }

  private async upgrade(version: FetchedVersion, signal: AbortSignal): Promise<UpdateOutcome> {
    const binPath = this.host.binary.path;
    let staged: Staged | undefined;
    try {
      staged = await stage(version.stream, binPath, signal);
      const newHash = staged.sha256;
      if (newHash === this.host.getHash()) {
        debug('fetched version is the running one (%s)', newHash.slice(0, 12));
        version.commit?.();
        return { result: 'no-update' };
      }
      if (this.bad.has(newHash)) {
        return {
          result: 'failed',
          reason: 'this version failed to start before',
          code: 'ERR_OVERSEER_KNOWN_BAD',
          newHash,
          rolledBack: false,
        };
      }
      verifyCandidate(staged, version);
      if (this.opts.preUpgrade) {
        try {
          await this.opts.preUpgrade(staged.tempPath);
        } catch (err) {
          throw codedError(
            Error,
            'ERR_OVERSEER_PRE_UPGRADE',
            `preUpgrade cancelled the upgrade: ${errorMessage(err)}`,
            err,
          );
        }
      }
      const { command, args } = this.host.binary.commandFor(staged.tempPath);
      await runSanityCheck(command, args, this.opts.sanityCheckTimeout);
      if (signal.aborted) throw signal.reason;

      const oldHash = this.host.getHash();
      swapIn(staged.tempPath, binPath);
      staged = undefined; // the temp file is binPath now
      this.host.setHash(newHash);
      const label = version.version ? { version: version.version } : {};
      if (this.opts.noRestartAfterFetch) {
        version.commit?.();
        return { result: 'upgraded', oldHash, newHash, ...label, restarted: false };
      }
      const restarted = await this.host.restart('upgrade');
      if (restarted.ok) {
        version.commit?.();
        return { result: 'upgraded', oldHash, newHash, ...label, restarted: true };
      }
      // Roll back: the old file returns, the old workers never stopped serving, and any slot
      // that already switched is restarted onto the old version again.
      rollBack(binPath);
      this.host.setHash(oldHash);
      this.bad.add(newHash);
      if (restarted.replaced > 0) await this.host.restart('rollback');
      const reason = `the new version failed to start: ${errorMessage(restarted.error)}`;
      return { result: 'failed', reason, code: 'ERR_OVERSEER_UPGRADE_FAILED', newHash, rolledBack: true };
    } catch (err) {
      version.stream.destroy();
      return fail(err, 'upgrade failed');
    } finally {
      if (staged) fs.rmSync(staged.tempPath, { force: true });
    }
  }

  private finish(t0: number, outcome: UpdateOutcome): UpdateOutcome {
    this.lastResult = outcome;
    if (outcome.result === 'no-update') return outcome;
    if (outcome.result === 'upgraded') {
      this.stats.upgrades++;
      debug('upgraded %s -> %s', outcome.oldHash.slice(0, 12), outcome.newHash.slice(0, 12));
    } else {
      this.stats.upgradeFailures++;
      warn(`upgrade-failed: ${outcome.reason}`, 'OVERSEER_UPGRADE_FAILED');
    }
    this.host.onUpgrade({ ...outcome, durationMs: Date.now() - t0 });
    return outcome;
  }
}

function fail(err: unknown, what: string): UpdateOutcome {
  const code = (err as { code?: unknown }).code;
  return {
    result: 'failed',
    reason: `${what}: ${errorMessage(err)}`,
    ...(typeof code === 'string' ? { code } : {}),
    rolledBack: false,
  };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
