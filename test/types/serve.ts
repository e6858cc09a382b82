// Compile-only (tsc -p tsconfig.json fails on a wrong type here; nothing runs it):
// state.serve() resolves with the server it was given, in that server's own type, and with
// an http.Server for a request handler or an app with callback().
import type http from 'node:http';
import type http2 from 'node:http2';
import type https from 'node:https';
import type net from 'node:net';
import type { State } from 'overseer';
import type { TestState } from 'overseer/testing';

declare const state: State;
declare const t: TestState;
declare const h2s: http2.Http2SecureServer;
declare const h2c: http2.Http2Server;
declare const tls: https.Server;
declare const handler: http.RequestListener;
declare const koa: { callback(): http.RequestListener };

export async function serveTypes(): Promise<void> {
  const a: http2.Http2SecureServer = await state.serve(h2s);
  const b: http2.Http2Server = await state.serve(h2c, state.listener);
  const c: https.Server = await t.state.serve(tls);
  const d: http.Server = await state.serve(handler);
  const e: http.Server = await state.serve(koa);
  const f: net.Server = await state.serve(h2s);
  // @ts-expect-error: a handler's server is an http.Server, not an HTTP/2 one
  const g: http2.Http2SecureServer = await state.serve(handler);
  // @ts-expect-error: neither a server, a handler nor an app with callback()
  await state.serve({ listen() {} });
  void [a, b, c, d, e, f, g];
}
