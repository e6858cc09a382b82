// Table 11: throughput around a restart. Each setup serves the same keep-alive load while it
// restarts RESTARTS times; its 2xx answers are counted per SLICE_MS from the moment each restart
// is asked for, as a share of what it answered per slice just before. This shows where a
// restart's cost lies (the new workers' start, the handover of the connections, the new
// workers' code before the JIT has warmed it) and how it compares with node:cluster's rolling
// restart and pm2's reload, which pay the same costs. Issue 22's target for req/s during
// restarts (≥ 0.97× steady) is judged in Table 9; this says why it is or is not met.
import { setTimeout as sleep } from 'node:timers/promises';
import { describeKinds, type Load } from './load.js';
import type { Peer } from './peers.js';
import { settings } from './settings.js';
import { median } from './stats.js';
import { errorText, markdownTable, num } from './table.js';

const SLICE_MS = 100;
/** The load counts per FINE_MS; slices are summed from these, aligned on each restart's start. */
const FINE_MS = 10;
/** Slices shown after the start of a restart (the one before it is shown too). */
const AFTER = 12;
/** A restart's loss is counted until this long after it is done (a slow reload is counted whole). */
const TAIL_MS = 600;
/** The slices before a restart that make its steady rate. */
const BASELINE = 5;
/** Between one restart's last slice and the next one's baseline. */
const SETTLE_MS = 300;

export interface Timeline {
  name: string;
  workers: number;
  /** Each restart's duration, as its supervisor reports it. */
  restartMs: number[];
  /** The median over restarts of each slice's share of the steady rate: slice -1, 0, … AFTER-1. */
  shares: number[];
  /**
   * The median over restarts of the answers lost from the restart's start until TAIL_MS after it
   * is done (at least the slices shown), as ms of serving at the steady rate; net: a slice above
   * steady pays some back.
   */
  lostMs: number;
  /** Answers per second just before the restarts (the median of their baselines). */
  steadyPerSec: number;
  failed: number;
  failures: string;
}

/** The slices a restart's loss is counted over: those shown, or until TAIL_MS after it is done. */
const counted = (restartMs: number): number => Math.max(AFTER, Math.ceil((restartMs + TAIL_MS) / SLICE_MS));

/**
 * One setup: start it, warm it up, then restart it under the bench's load (`startLoad`, with its
 * answers counted per slice), RESTARTS times.
 */
export async function restartTimeline(
  peer: Peer,
  startLoad: (port: number, sliceMs?: number) => Load,
  log: (m: string) => void,
): Promise<Timeline> {
  log(`restart timeline: ${peer.name}, W=${peer.workers}`);
  const running = await peer.start();
  try {
    const warm = startLoad(running.port);
    await sleep(settings.warmupSeconds * 1000);
    await warm.stop();
    const load = startLoad(running.port, FINE_MS);
    const starts: number[] = [];
    const restartMs: number[] = [];
    let stats: Awaited<ReturnType<typeof load.stop>>;
    try {
      await sleep(BASELINE * SLICE_MS + SETTLE_MS);
      for (let i = 0; i < settings.restarts; i++) {
        const start = performance.now();
        starts.push(start);
        const ms = await running.restart();
        restartMs.push(ms);
        // The next restart's baseline begins after this one's last slice.
        const next = start + counted(ms) * SLICE_MS + SETTLE_MS + BASELINE * SLICE_MS;
        await sleep(Math.max(settings.spacingMs, next - performance.now()));
      }
    } finally {
      stats = await load.stop();
    }
    const { startedAt, counts } = stats.slices!;
    /** The answers in the slice `k` slices after `start` (k may be negative). */
    const slice = (start: number, k: number): number => {
      const from = Math.round((start - startedAt + k * SLICE_MS) / FINE_MS);
      let n = 0;
      for (let i = from; i < from + SLICE_MS / FINE_MS; i++) n += counts[i] ?? 0;
      return n;
    };
    const perRestart = starts.map((start, i) => {
      const steady = median(Array.from({ length: BASELINE }, (_, j) => slice(start, -BASELINE + j)));
      const shares = Array.from({ length: AFTER + 1 }, (_, j) => slice(start, j - 1) / steady);
      let lost = 0;
      for (let k = 0; k < counted(restartMs[i]!); k++) lost += (1 - slice(start, k) / steady) * SLICE_MS;
      return { steady, shares, lost };
    });
    return {
      name: peer.name,
      workers: peer.workers,
      restartMs,
      shares: Array.from({ length: AFTER + 1 }, (_, j) => median(perRestart.map((r) => r.shares[j]!))),
      lostMs: median(perRestart.map((r) => r.lost)),
      steadyPerSec: median(perRestart.map((r) => r.steady)) * (1000 / SLICE_MS),
      failed: stats.failed,
      failures: describeKinds(stats.kinds),
    };
  } finally {
    await running.stop();
  }
}

export function timelineTable(results: Array<Timeline | Error>, peers: Peer[]): string {
  const offsets = Array.from({ length: AFTER + 1 }, (_, j) => `${((j - 1) * SLICE_MS) / 1000} s`);
  const header = [
    'setup',
    'W',
    'restart ms',
    'lost per restart (ms of steady)',
    'steady req/s',
    ...offsets,
    'failed',
  ];
  const rows = results.map((r, i) => {
    const peer = peers[i]!;
    if (r instanceof Error) {
      const why = `error: ${errorText(r).slice(0, 80)}`;
      return [peer.name, String(peer.workers), why, ...header.slice(3).map(() => '-')];
    }
    return [
      r.name,
      String(r.workers),
      num(median(r.restartMs)),
      num(r.lostMs),
      num(r.steadyPerSec),
      ...r.shares.map((s) => `${Math.round(s * 100)} %`),
      r.failed === 0 ? '0' : `${num(r.failed)} (${r.failures})`,
    ];
  });
  return markdownTable(header, rows);
}

/** The caption Table 11 is printed under, with what it was measured with. */
export function timelineCaption(): string {
  return (
    `## Table 11: throughput around a restart (${settings.connections} keep-alive connections, ` +
    `${settings.restarts} restarts each; the 2xx answers in each ${SLICE_MS} ms from the moment a ` +
    `restart is asked for, as a share of the ${BASELINE} slices before it; medians over the restarts)`
  );
}
