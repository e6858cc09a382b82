// Parsing of listen addresses: ':3000', 'host:port', '[::1]:port', ':0', 'unix:/path', and
// 'systemd:' / 'systemd:NAME' for sockets systemd passed (socket activation).
import net from 'node:net';
import path from 'node:path';
import { type Invalid, invalidConfig } from './errors.js';
import { ipFamily } from './ip-family.js';

export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number; text: string }
  | { kind: 'unix'; path: string; text: string }
  /** Sockets from systemd (LISTEN_FDS): every one (`name` undefined), or those named `name`. */
  | { kind: 'systemd'; name: string | undefined; text: string };

/** Parses one address string; a bad one is the caller's `invalid` error, naming `field`. */
export function parseAddress(text: unknown, field: string, invalid: Invalid = invalidConfig): ListenAddress {
  if (typeof text !== 'string' || text.length === 0) {
    throw invalid(field, `must be a non-empty address string, got ${describe(text)}`);
  }
  if (text.startsWith('systemd:')) {
    const name = text.slice('systemd:'.length);
    if (!/^[\x21-\x7e]*$/.test(name) || name.includes(':')) {
      throw invalid(field, `must name a socket as systemd's FileDescriptorName does, got '${text}'`);
    }
    return { kind: 'systemd', name: name === '' ? undefined : name, text };
  }
  if (text.startsWith('unix:')) {
    const p = text.slice('unix:'.length);
    if (!path.isAbsolute(p)) throw invalid(field, `must name an absolute socket path, got '${text}'`);
    return { kind: 'unix', path: p, text };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw invalid(field, `must be 'host:port', ':port' or 'unix:/path', got '${text}'`);
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) {
    host = host.slice(1, -1);
    if (net.isIPv6(host) === false) throw invalid(field, `has a bad IPv6 address in '${text}'`);
  } else if (host.includes(':')) {
    throw invalid(field, `must bracket IPv6 addresses ('[::1]:3000'), got '${text}'`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw invalid(field, `has a bad port in '${text}' (0-65535)`);
  }
  if (host === 'localhost') host = '127.0.0.1';
  if (host !== '' && net.isIP(host) === 0) {
    throw invalid(field, `must use an IP address, not a host name, got '${text}'`);
  }
  return { kind: 'tcp', host, port: Number(portText), text };
}

/** The address as users write it, with the real port (for ':0'). */
export function formatAddress(addr: ListenAddress, port?: number): string {
  if (addr.kind !== 'tcp') return addr.text;
  const host = ipFamily(addr.host) === 6 ? `[${addr.host}]` : addr.host;
  return `${host}:${port ?? addr.port}`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return "''";
  return value === null ? 'null' : typeof value;
}
