// Reads a systemd unit file as systemd does for what the tests check: sections of key=value
// lines, comments and blank lines skipped, the last value of a key winning.
import assert from 'node:assert/strict';
import fs from 'node:fs';

export function unitFile(file: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const l = raw.trim();
    if (l === '' || l.startsWith('#') || l.startsWith(';')) continue;
    const s = /^\[(\w+)\]$/.exec(l);
    if (s) {
      section = new Map();
      sections.set(s[1]!, section);
      continue;
    }
    const eq = l.indexOf('=');
    assert.ok(section && eq > 0, `${file}: a key=value line in a section: ${l}`);
    section.set(l.slice(0, eq), l.slice(eq + 1));
  }
  return sections;
}
