// A master's stable id in a fleet, which a release manifest's rollout share is decided from
// (rollout.ts): `fleetId` when the config sets one, else made from this machine's id and the
// app's name, so that it survives restarts, reboots and redeploys, and two apps on one machine
// are drawn apart. The machine id is systemd's /etc/machine-id (or D-Bus's copy of it); where
// there is none, the hostname. As systemd asks of anything that derives from the machine id, the
// id shown is a keyed hash of it for this app, never the machine id itself.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';

const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** This machine's id, or its hostname where it has none. */
export function machineId(): string {
  for (const file of MACHINE_ID_FILES) {
    try {
      const id = fs.readFileSync(file, 'utf8').trim();
      if (id !== '') return id;
    } catch {}
  }
  return os.hostname();
}

/** `configured` as it is, else this machine's id and `appName` as 32 hex digits. */
export function fleetIdOf(configured: string | undefined, appName: string): string {
  if (configured !== undefined) return configured;
  return createHmac('sha256', machineId()).update(appName).digest('hex').slice(0, 32);
}
