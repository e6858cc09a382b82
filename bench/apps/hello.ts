// The one request handler every peer serves, so that peers differ only in how they run it.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function hello(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'text/plain');
  res.end('hello world\n');
}
