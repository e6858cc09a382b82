// A stream of newline-delimited JSON to one control-socket reader (events, logs), bounded
// by that reader's socket: the lines of one tick go out as one write, and once a write does
// not fit (write() says false) lines are dropped and counted until the socket drains; then
// one line tells the reader how many it missed. One write per tick, not per line: a slow
// reader of many small lines would otherwise hold a write request per line, which costs
// more than the line itself.
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

export function ndjsonStream(req: IncomingMessage, res: ServerResponse, opts: NdjsonOptions): NdjsonStream {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
  res.flushHeaders();
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
  req.socket.setTimeout(0);
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
