// Which master a CLI command acts on. `--socket` (or $OVERSEER_IPC_PATH) names a socket; a
// name names a master (its socket is at the name's path); with neither, the master whose app
// directory holds the current directory (the deepest, when apps nest), else the only one
// running; otherwise the command fails with the list to choose from.
import path from 'node:path';
import { ipcRequest } from '../control/client.js';
import { codedError, errorCode, errorMessage, withCode } from '../errors.js';
import { nameProblem } from '../name.js';
import { platform } from '../os/index.js';

type Json = Record<string, unknown>;

/** A running master: its control socket and what its status said. */
export interface Found {
  socket: string;
  status: Json;
}

/**
 * A master that is there (its socket takes connections) and gave no status: busy (503
 * ERR_OVERSEER_BUSY), stopped or wedged (ETIMEDOUT), or failing; `error` says which, with its code.
 */
export interface Unanswered {
  socket: string;
  error: Error;
}

/** How a command names its master. */
export interface Which {
  socket?: string | undefined;
  name?: string | undefined;
  timeout: number;
}

/** How long a look at one master may take while several are looked at. */
const LOOK_MS = 2_000;

/** Nothing listens at a socket path: no file there, or a killed master's (the kernel refuses). */
const NOTHING_THERE = new Set(['ENOENT', 'ECONNREFUSED', 'ENOTDIR', 'ENAMETOOLONG']);

/** This user's masters, sorted by name: those that answered, and those that are there and did not. */
export async function allMasters(timeout: number): Promise<{ answered: Found[]; unanswered: Unanswered[] }> {
  const ipc = await platform.controlSocket();
  const seen = await Promise.all(
    ipc.listIPCPaths().map((socket) => look(socket, Math.min(timeout, LOOK_MS))),
  );
  const present = seen.filter((m) => m !== undefined).sort((a, b) => label(a).localeCompare(label(b)));
  return {
    answered: present.filter(answered),
    unanswered: present.filter((m): m is Unanswered => !answered(m)),
  };
}

/** The socket a command was pointed at: its `--socket`, else $OVERSEER_IPC_PATH; undefined for neither. */
export function chosenSocket(socket: string | undefined): string | undefined {
  return socket || process.env.OVERSEER_IPC_PATH || undefined;
}

export function answered(m: Found | Unanswered): m is Found {
  return 'status' in m;
}

/** The status of the master at `socket`; throws why there is none, with the system's or the master's code. */
async function statusAt(socket: string, timeout: number): Promise<Found> {
  let r: { status: number; body: unknown };
  try {
    r = await ipcRequest(socket, 'GET', '/overseer/status', timeout);
  } catch (err) {
    throw Object.assign(new Error(`cannot reach the master at ${socket}: ${errorMessage(err)}`), {
      code: errorCode(err),
    });
  }
  const body = (typeof r.body === 'object' && r.body !== null ? r.body : {}) as Json;
  // The master's own answer (busy: 503 ERR_OVERSEER_BUSY) keeps its code, so a script can tell it from dead.
  if (r.status !== 200)
    throw Object.assign(new Error(`status: ${String(body.error ?? `HTTP ${r.status}`)}`), {
      code: typeof body.code === 'string' ? body.code : undefined,
    });
  return { socket, status: body };
}

/**
 * The master at `socket`: its status, or why it did not give one; undefined when nothing
 * listens there. A socket that takes connections is a master that is there, busy or not.
 */
export async function look(socket: string, timeout: number): Promise<Found | Unanswered | undefined> {
  try {
    return await statusAt(socket, timeout);
  } catch (err) {
    return NOTHING_THERE.has(errorCode(err) ?? '') ? undefined : { socket, error: err as Error };
  }
}

/** The master named `name`, at one of the places its socket may be; undefined when none is there. */
export async function named(name: string, timeout: number): Promise<Found | Unanswered | undefined> {
  for (const socket of (await platform.controlSocket()).namedPaths(name)) {
    const found = await look(socket, timeout);
    if (found) return found;
  }
  return undefined;
}

/** The master a command acts on; throws a message that says why there is none. */
export async function findMaster(which: Which, cwd = process.cwd()): Promise<Found> {
  const socket = chosenSocket(which.socket);
  if (which.name !== undefined) {
    const problem = nameProblem(which.name);
    if (problem !== undefined) throw Object.assign(new Error(`a master's name ${problem}`), { usage: true });
    const found = await named(which.name, which.timeout);
    if (found === undefined)
      throw noMaster(`no master named '${which.name}' is running (see \`overseer ls\`)`);
    if (!answered(found)) throw found.error;
    return found;
  }
  if (socket) return statusAt(socket, which.timeout);
  const { answered: masters, unanswered } = await allMasters(which.timeout);
  const here = ofDirectory(masters, cwd);
  // One that did not answer may be the one meant (where its app is, is unknown): it is never
  // passed over for another, nor taken for gone.
  if (unanswered.length === 0) {
    if (here.length === 1) return here[0]!;
    if (masters.length === 1 && here.length === 0) return masters[0]!;
    if (masters.length === 0) throw noMaster('no running master found (see `overseer ls`)');
  } else if (masters.length === 0 && unanswered.length === 1) throw unanswered[0]!.error;
  const choices = [...(here.length > 0 ? here : masters), ...unanswered];
  const why =
    unanswered.length > 0
      ? `could be meant in ${cwd} (${unanswered.length} did not answer, so where its app is is unknown)`
      : here.length > 0
        ? `have their app in ${cwd}`
        : `are running, and none has its app in ${cwd}`;
  // The code on the first line, before the list (a line's code otherwise ends it).
  throw noMaster(
    `${choices.length} masters ${why}; name one (ERR_OVERSEER_NO_MASTER):\n${choiceList(choices)}`,
  );
}

function noMaster(message: string): Error {
  return codedError(Error, 'ERR_OVERSEER_NO_MASTER', message);
}

/**
 * The masters whose app directory holds `cwd`, the deepest only (an app inside another's
 * folder is the one meant there): one, or several with the same directory, or none.
 */
export function ofDirectory(masters: readonly Found[], cwd: string): Found[] {
  const depths = masters.map((m) => holds(m.status.appDir, cwd));
  const deepest = Math.max(-1, ...depths);
  return deepest < 0 ? [] : masters.filter((_, i) => depths[i] === deepest);
}

/** How deep `dir` is (its length) when it is `cwd` or one of its parents; -1 when not. */
function holds(dir: unknown, cwd: string): number {
  if (typeof dir !== 'string' || dir === '') return -1;
  const rel = path.relative(dir, cwd);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)) ? dir.length : -1;
}

function choiceList(masters: readonly (Found | Unanswered)[]): string {
  const width = Math.max(...masters.map((m) => label(m).length));
  return masters
    .map(
      (m) =>
        `  ${label(m).padEnd(width)}  ${answered(m) ? `pid ${String(m.status.pid)}  ${String(m.status.appDir ?? m.socket)}` : `${unansweredState(m)}  ${m.socket}`}`,
    )
    .join('\n');
}

/** Why a master gave no status, short: `busy (ERR_OVERSEER_BUSY)`, `no answer (ETIMEDOUT)`. */
export function unansweredState(m: Unanswered): string {
  const code = errorCode(m.error);
  const state = code === 'ERR_OVERSEER_BUSY' ? 'busy' : code === 'ETIMEDOUT' ? 'no answer' : 'unreachable';
  return withCode(state, code);
}

/**
 * A master as the CLI names it: its name ('-' for one of an earlier version); one that gave no
 * status, by its socket's file name (`<name>.sock`, which a name's socket is).
 */
export function label(m: Found | Unanswered): string {
  if (!answered(m)) return path.basename(m.socket, '.sock');
  return typeof m.status.name === 'string' ? m.status.name : '-';
}

/** Which master a command acted on, for its output: `alpha, pid 4242`. */
export function actedOn(m: Found): string {
  return `${label(m)}, pid ${String(m.status.pid)}`;
}
