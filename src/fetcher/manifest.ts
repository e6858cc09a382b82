// The release manifest: a small JSON document on the release host, beside the versions, that
// says which version is current, where its bytes are and how to check them, and how far it is
// rolled out across a fleet. A fetcher in manifest mode (`manifest: true`) reads it and checks
// it here, strictly: a malformed manifest is refused whole, with a coded error that names the
// field, and changes nothing. Each master decides from it on its own (upgrade/rollout.ts), so
// the release host is the only shared state and no coordinator is needed.
import { codedError } from '../errors.js';
import { decodeSignature } from './checksums.js';
import type { Integrity } from './integrity.js';

/** The manifest format this overseer reads: `"manifest": 1`. */
export const MANIFEST_FORMAT = 1;

export interface RolloutStep {
  /** The share of the fleet, 0 to 100. */
  percent: number;
  /** When the step begins, in ms since the epoch, by each master's own wall clock. */
  at: number;
}

/** A share of the fleet now, or steps over time (the current step is the last one begun). */
export type Rollout = { percent: number } | { steps: readonly RolloutStep[] };

export interface ReleaseManifest {
  /** The version's label: the share, `bad`, the status and the metrics name it by this. */
  version: string;
  /** Where its bytes are, relative to the manifest's own location (or absolute). */
  url: string;
  /** The sha256 of those bytes, lower-case hex. */
  sha256: string;
  /** A detached ed25519 signature of them; checked when the fetcher has a `publicKey`. */
  signature: Buffer | undefined;
  rollout: Rollout;
  /** No master takes the version; masters that already run it keep it. */
  halt: boolean;
  /** Version labels and sha256s: a master running one of them rolls back. */
  bad: readonly string[];
}

const FIELDS = ['manifest', 'version', 'url', 'sha256', 'signature', 'rollout', 'halt', 'bad'];
const MAX_LABEL = 200;
const MAX_URL = 4096;
const MAX_STEPS = 100;
const MAX_BAD = 1000;
/** An ISO 8601 date and time with its offset: a step begins at one instant on every master. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** The instant `text` names, or NaN: a day the month does not have is refused, not rolled on. */
function isoInstant(text: unknown): number {
  const m = typeof text === 'string' ? ISO_TIME.exec(text) : null;
  if (!m) return Number.NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return Number.NaN;
  return Date.parse(text as string);
}

type Json = Record<string, unknown>;

/** Reads and checks a manifest; every mistake is ERR_OVERSEER_FETCH_BAD_RESPONSE naming the field. */
export function parseManifest(body: Buffer, where: string): ReleaseManifest {
  const bad = (field: string, problem: string, cause?: unknown): Error =>
    codedError(
      Error,
      'ERR_OVERSEER_FETCH_BAD_RESPONSE',
      `${where}: release manifest${field === '' ? '' : `: ${field}`} ${problem}`,
      cause,
    );
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw bad('', 'is not JSON', err);
  }
  const m = object(json, '', bad);
  for (const key of Object.keys(m)) if (!FIELDS.includes(key)) throw bad(key, 'is not a known field');
  if (m.manifest !== MANIFEST_FORMAT) {
    throw bad(
      'manifest',
      `must be ${MANIFEST_FORMAT} (the format this overseer reads), got ${show(m.manifest)}`,
    );
  }
  const sha256 = m.sha256;
  if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    throw bad('sha256', 'must be the sha256 of the version as 64 hex digits');
  }
  let signature: Buffer | undefined;
  if (m.signature !== undefined) {
    // Text only: 64 characters would pass as the raw bytes of a signature file.
    if (typeof m.signature !== 'string' || m.signature.length === 64) {
      throw bad('signature', 'must be the ed25519 signature as base64 (or hex) text');
    }
    signature = decodeSignature(Buffer.from(m.signature), `${where}: release manifest: signature`);
  }
  if (m.halt !== undefined && typeof m.halt !== 'boolean') throw bad('halt', 'must be true or false');
  return {
    version: label(m.version, 'version', bad),
    url: text(m.url, 'url', MAX_URL, bad),
    sha256: sha256.toLowerCase(),
    signature,
    rollout: m.rollout === undefined ? { percent: 100 } : rollout(m.rollout, bad),
    halt: m.halt === true,
    bad: badList(m.bad, bad),
  };
}

/** The share now, and which step that is: 1-based, 0 before the first; null for a plain percent. */
export function currentStep(r: Rollout, now: number): { percent: number; step: number | null } {
  if ('percent' in r) return { percent: r.percent, step: null };
  let step = 0;
  while (step < r.steps.length && r.steps[step]!.at <= now) step++;
  return { percent: step === 0 ? 0 : r.steps[step - 1]!.percent, step };
}

/** When the next step begins (ms since the epoch), or undefined when none is to come. */
export function nextStepAt(r: Rollout, now: number): number | undefined {
  return 'steps' in r ? r.steps.find((s) => s.at > now)?.at : undefined;
}

/**
 * What the master checks the version's bytes against: the manifest's sha256, and its signature
 * when the fetcher has a public key (a manifest without one is then refused before a download).
 */
export function manifestIntegrity(
  m: ReleaseManifest,
  publicKey: string | undefined,
  where: string,
): Integrity {
  if (publicKey === undefined) return { sha256: m.sha256 };
  if (m.signature === undefined) {
    throw codedError(
      Error,
      'ERR_OVERSEER_SIGNATURE',
      `${where}: release manifest: version ${m.version} has no signature, and the fetcher's publicKey asks for one`,
    );
  }
  return { sha256: m.sha256, signature: m.signature, publicKey };
}

type Bad = (field: string, problem: string) => Error;

function object(v: unknown, field: string, bad: Bad): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(field, 'must be a JSON object');
  return v as Json;
}

function text(v: unknown, field: string, max: number, bad: Bad): string {
  if (typeof v !== 'string' || v === '' || v.length > max) {
    throw bad(field, `must be a non-empty string of at most ${max} characters`);
  }
  // Labels go into logs, events and metric labels; URLs into requests.
  for (const c of v) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) throw bad(field, 'must not hold control characters');
  }
  return v;
}

function label(v: unknown, field: string, bad: Bad): string {
  return text(v, field, MAX_LABEL, bad);
}

function percent(v: unknown, field: string, bad: Bad): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    throw bad(field, `must be a number from 0 to 100, got ${show(v)}`);
  }
  return v;
}

function rollout(v: unknown, bad: Bad): Rollout {
  const r = object(v, 'rollout', bad);
  const keys = Object.keys(r);
  if (keys.length !== 1 || (keys[0] !== 'percent' && keys[0] !== 'steps')) {
    throw bad('rollout', 'must have either percent or steps, and nothing else');
  }
  if ('percent' in r) return { percent: percent(r.percent, 'rollout.percent', bad) };
  if (!Array.isArray(r.steps) || r.steps.length === 0 || r.steps.length > MAX_STEPS) {
    throw bad('rollout.steps', `must be a list of 1 to ${MAX_STEPS} { percent, at }`);
  }
  const steps = r.steps.map((s: unknown, i): RolloutStep => {
    const field = `rollout.steps[${i}]`;
    const o = object(s, field, bad);
    for (const key of Object.keys(o)) {
      if (key !== 'percent' && key !== 'at') throw bad(`${field}.${key}`, 'is not a known field');
    }
    const at = isoInstant(o.at);
    if (!Number.isFinite(at)) {
      throw bad(
        `${field}.at`,
        `must be an ISO 8601 time with its offset ('2025-06-01T12:00:00Z'), got ${show(o.at)}`,
      );
    }
    return { percent: percent(o.percent, `${field}.percent`, bad), at };
  });
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]!.at <= steps[i - 1]!.at)
      throw bad(`rollout.steps[${i}].at`, 'must be later than the step before');
    if (steps[i]!.percent < steps[i - 1]!.percent) {
      throw bad(
        `rollout.steps[${i}].percent`,
        'must not be less than the step before (halt stops a rollout)',
      );
    }
  }
  return { steps };
}

function badList(v: unknown, bad: Bad): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_BAD) {
    throw bad('bad', `must be a list of at most ${MAX_BAD} version labels or sha256s`);
  }
  return v.map((b: unknown, i) => label(b, `bad[${i}]`, bad));
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
