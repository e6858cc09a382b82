// The control socket on Windows: a named pipe made by the addon, by default
// `\\.\pipe\overseer-<user>-<name>`, whose DACL admits only this user, SYSTEM and
// Administrators (Node's own pipes give Everyone read access, and Node cannot set a DACL:
// nodejs/node#47086). Remote clients are rejected, and a second server cannot join a pipe
// that runs (first-instance flag). Connected pipes arrive as ordinary net.Sockets.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { codedError } from '../../errors.js';
import { debug } from '../../log.js';
import { toName } from '../../name.js';
import { native, type PipeServer } from '../../os/native.js';
import type { IpcListenOptions, IpcPlatform } from './types.js';

const PIPE_DIR = '\\\\.\\pipe\\';
const PREFIX = 'overseer-';
const CONNECT_TIMEOUT_MS = 5_000;
const servers = new Map<string, PipeServer>();

function pipes(): Required<Pick<ReturnType<typeof native>, 'pipeListen' | 'pipeConnect'>> {
  const n = native();
  if (!n.pipeListen || !n.pipeConnect) {
    throw codedError(
      Error,
      'ERR_OVERSEER_IPC_UNSUPPORTED',
      'overseer: this build of the addon has no named pipes',
    );
  }
  return { pipeListen: n.pipeListen.bind(n), pipeConnect: n.pipeConnect.bind(n) };
}

async function listenIPC(path: string, options: IpcListenOptions = {}): Promise<net.Server> {
  const server = options.server ?? net.createServer();
  const pipe = pipes().pipeListen(path, options.securityDescriptor, (err, fd) => {
    if (err || fd === undefined) {
      debug('ipc: accept on %s: %s', path, err?.message);
      return;
    }
    const socket = new net.Socket({ fd, readable: true, writable: true });
    if (options.admit && !options.admit(socket)) {
      socket.destroy();
      return;
    }
    server.emit('connection', socket);
  });
  // Like a listening net.Server it would keep the process alive; the master decides that.
  pipe.unref();
  servers.set(path, pipe);
  return server;
}

async function dialIPC(path: string): Promise<net.Socket> {
  const fd = await pipes().pipeConnect(path, CONNECT_TIMEOUT_MS);
  return new net.Socket({ fd, readable: true, writable: true });
}

function listIPCPaths(): string[] {
  try {
    return fs
      .readdirSync(PIPE_DIR)
      .filter((n) => n.startsWith(PREFIX))
      .map((n) => `${PIPE_DIR}${n}`);
  } catch {
    return [];
  }
}

/** Per user and name; the DACL, not the name, keeps other users out. */
function namedPath(name: string): string {
  let user = process.env.USERNAME ?? '';
  try {
    user = os.userInfo().username;
  } catch {} // an account without a profile: USERNAME, as the shell has it
  return `${PIPE_DIR}${PREFIX}${toName(user) || 'user'}-${name}`;
}

export const windows: IpcPlatform = {
  listenIPC,
  dialIPC,
  namedPath,
  namedPaths: (name) => [namedPath(name)],
  listIPCPaths,
  sweepStaleIPC: async () => [], // a pipe goes away with its server
  cleanupIPC: (path) => {
    servers.get(path)?.close();
    servers.delete(path);
  },
};
