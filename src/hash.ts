// The sha256 that identifies a version of a file, read as a stream (a single-executable app
// is a 100 MB node binary; nothing is held whole in memory).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Rejects with `signal.reason` when it aborts. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, signal ? { signal } : {})) hash.update(chunk as Buffer);
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
  return hash.digest('hex');
}
