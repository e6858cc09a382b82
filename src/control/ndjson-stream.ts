// A stream of newline-delimited JSON to one control-socket reader (events, logs), bounded
// by that reader's socket. Pushed lines (events: nothing keeps them) go out one write per
// tick, and once a write does not fit (write() says false) lines are dropped and counted
// until the socket drains; then one line tells the reader how many it missed. One write per
// tick, not per line: a slow reader of many small lines would otherwise hold a write request
// per line, which costs more than the line itself. Pulled lines (logs: the master's buffer
// keeps them) are read from their source only while the socket takes them, so a reader that
// does not read holds a batch, never the backlog.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The most bytes a reader's lines may gather within one tick before they are dropped. */
const MAX_BATCH_BYTES = 64 * 1024;

export interface NdjsonOptions {
  /** The line that tells the reader it missed `count` lines. */
  missed(count: number): object;
  /** Each dropped line, as it is dropped. */
  onDrop?(): void;
  /** Called once the reader has gone. */
  onClose(): void;
}

export interface NdjsonStream {
  /** Queues one line; it is dropped (and counted) while the reader is behind. */
  push(line: object): void;
}

/** The head of a stream's answer; a stream may be quiet for long, so its socket has no timeout. */
function startStream(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
  res.flushHeaders();
  req.socket.setTimeout(0);
}

export function ndjsonStream(req: IncomingMessage, res: ServerResponse, opts: NdjsonOptions): NdjsonStream {
  startStream(req, res);
  let dropped = 0;
  let full = false;
  let batch = '';
  let flushing: NodeJS.Immediate | undefined;
  const flush = (): void => {
    flushing = undefined;
    if (res.destroyed) return;
    let text = batch;
    batch = '';
    if (dropped > 0) {
      text += `${JSON.stringify(opts.missed(dropped))}\n`;
      dropped = 0;
    }
    if (text !== '' && !res.write(text)) {
      full = true;
      res.once('drain', onDrain);
    }
  };
  const onDrain = (): void => {
    full = false;
    if (dropped > 0) flushing ??= setImmediate(flush); // tell the reader what it missed
  };
  res.on('close', () => {
    res.off('drain', onDrain);
    if (flushing) clearImmediate(flushing);
    opts.onClose();
  });
  return {
    push(line: object): void {
      const text = `${JSON.stringify(line)}\n`;
      if (full || batch.length + text.length > MAX_BATCH_BYTES) {
        dropped++;
        opts.onDrop?.();
        return;
      }
      batch += text;
      flushing ??= setImmediate(flush);
    },
  };
}

/** Where a pulled stream's lines come from. */
export interface NdjsonSource {
  /** The next lines, newline-terminated, about `maxBytes` at most; '' when there are none now. */
  read(maxBytes: number): string;
  /** Whether nothing more will come once read() has none: the answer then ends. */
  done(): boolean;
  /** Calls `wake` when there is more to read; returns the way to stop. */
  watch(wake: () => void): () => void;
}

/** Writes `source`'s lines while the socket takes them, and waits for 'drain' when it does not. */
export function ndjsonPull(req: IncomingMessage, res: ServerResponse, source: NdjsonSource): void {
  startStream(req, res);
  let full = false;
  let pumping: NodeJS.Immediate | undefined;
  const pump = (): void => {
    pumping = undefined;
    while (!full && !res.destroyed && !res.writableEnded) {
      const text = source.read(MAX_BATCH_BYTES);
      if (text === '') {
        if (source.done()) res.end();
        return;
      }
      if (!res.write(text)) {
        full = true;
        res.once('drain', onDrain);
      }
    }
  };
  const onDrain = (): void => {
    full = false;
    pump();
  };
  // The lines of one tick go out together (see above).
  const stop = source.watch(() => {
    if (!full) pumping ??= setImmediate(pump);
  });
  res.on('close', () => {
    stop();
    res.off('drain', onDrain);
    if (pumping) clearImmediate(pumping);
  });
  pump();
}
