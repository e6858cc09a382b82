// The messages between master and worker on the Node IPC channel. They are tagged so
// that a program's own process.send() traffic is never mistaken for ours.
export const TAG = '@overseer';

export type WorkerMessage = { [TAG]: 'ready' } | { [TAG]: 'failed'; message: string; stack?: string };

export type MasterMessage = { [TAG]: 'shutdown' };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[TAG] !== undefined;
}

export function isMasterMessage(m: unknown): m is MasterMessage {
  return typeof m === 'object' && m !== null && (m as Record<string, unknown>)[TAG] === 'shutdown';
}
