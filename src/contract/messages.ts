// The messages between master and worker on the Node IPC channel. They are tagged so
// that a program's own process.send() traffic is never mistaken for ours.
export const TAG = '@overseer';

/** Worker to master: readiness, a failed start, and (Windows) "send me the listeners". */
export type WorkerMessage =
  | { [TAG]: 'ready' }
  | { [TAG]: 'listeners' }
  | { [TAG]: 'failed'; message: string; stack?: string };

/** Master to worker: drain and exit; (Windows) one listener handle. */
export type MasterMessage = { [TAG]: 'shutdown' } | { [TAG]: 'listener'; index: number; address: string };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[TAG] !== undefined;
}

export function isMasterMessage(m: unknown): m is MasterMessage {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[TAG] === 'shutdown';
}
