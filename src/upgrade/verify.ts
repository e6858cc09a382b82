// Integrity of a staged candidate, against what its fetcher published (fetcher/integrity.ts).
// A mismatch means no swap.
import fs from 'node:fs';
import type { FetchedVersion } from '../fetcher/fetcher.js';
import { checkIntegrity } from '../fetcher/integrity.js';
import type { Staged } from './stage.js';

export function verifyCandidate(staged: Staged, version: FetchedVersion): void {
  checkIntegrity(version, staged.sha256, () => fs.readFileSync(staged.tempPath), 'the new version');
}
