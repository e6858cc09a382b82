// Which master a CLI command acts on. `--socket` (or $OVERSEER_IPC_PATH) names a socket; a
// name names a master (its socket is at the name's path); with neither, the master whose app
// directory holds the current directory (the deepest, when apps nest), else the only one
// running; otherwise the command fails with the list to choose from.
import path from 'node:path';
import { ipcRequest } from '../control/client.js';
import { codedError, errorCode, errorMessage } from '../errors.js';
import { nameProblem } from '../name.js';
import { platform } from '../os/index.js';

type Json = Record<string, unknown>;

/** A running master: its control socket and what its status said. */
export interface Found {
  socket: string;
  status: Json;
}

/** How a command names its master. */
export interface Which {
  socket?: string | undefined;
  name?: string | undefined;
  timeout: number;
}

/** How long a look at one master may take while several are looked at. */
const LOOK_MS = 2_000;

/** This user's masters that answer; stale socket files (a killed master's) are skipped. */
export async function liveMasters(timeout: number): Promise<Found[]> {
  const ipc = await platform.controlSocket();
  const found = await Promise.all(
    ipc.listIPCPaths().map((socket) => look(socket, Math.min(timeout, LOOK_MS))),
  );
  return found.filter((m) => m !== undefined).sort((a, b) => label(a).localeCompare(label(b)));
}

/** The socket a command was pointed at: its `--socket`, else $OVERSEER_IPC_PATH; undefined for neither. */
export function chosenSocket(socket: string | undefined): string | undefined {
  return socket || process.env.OVERSEER_IPC_PATH || undefined;
}

/** The master answering at `socket`; undefined when none does. */
export async function look(socket: string, timeout: number): Promise<Found | undefined> {
  try {
    const r = await ipcRequest(socket, 'GET', '/overseer/status', timeout);
    return r.status === 200 && typeof r.body === 'object' && r.body !== null
      ? { socket, status: r.body as Json }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The master named `name`, at one of the places its socket may be; undefined when none answers. */
export async function named(name: string, timeout: number): Promise<Found | undefined> {
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
    if (found) return found;
    throw noMaster(`no master named '${which.name}' is running (see \`overseer ls\`)`);
  }
  if (socket) {
    let r: { status: number; body: unknown };
    try {
      r = await ipcRequest(socket, 'GET', '/overseer/status', which.timeout);
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
  const masters = await liveMasters(which.timeout);
  const here = ofDirectory(masters, cwd);
  if (here.length === 1) return here[0]!;
  if (masters.length === 1 && here.length === 0) return masters[0]!;
  if (masters.length === 0) throw noMaster('no running master found (see `overseer ls`)');
  const choices = here.length > 0 ? here : masters;
  const why = here.length > 0 ? `have their app in ${cwd}` : `are running, and none has its app in ${cwd}`;
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

function choiceList(masters: readonly Found[]): string {
  const width = Math.max(...masters.map((m) => label(m).length));
  return masters
    .map(
      (m) =>
        `  ${label(m).padEnd(width)}  pid ${String(m.status.pid)}  ${String(m.status.appDir ?? m.socket)}`,
    )
    .join('\n');
}

/** A master as the CLI names it: its name ('-' for one of an earlier version). */
export function label(m: Found): string {
  return typeof m.status.name === 'string' ? m.status.name : '-';
}

/** Which master a command acted on, for its output: `alpha, pid 4242`. */
export function actedOn(m: Found): string {
  return `${label(m)}, pid ${String(m.status.pid)}`;
}
