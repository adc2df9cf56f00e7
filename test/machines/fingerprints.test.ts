/**
 * A released machine definition must never change: runs recorded under it would fold differently.
 * Each definition's fingerprint (states, transitions, guards, actions) is committed in
 * machines/fingerprints.json; a change without a new version fails here. A new version's fingerprint
 * is added (never an old one rewritten) with OVERSEER_RECORD_FINGERPRINTS=1 (docs/versions.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { machineFingerprint } from '../../machines/fingerprint.js';
import { RELEASED } from '../../machines/versions.js';

const FILE = new URL('../../machines/fingerprints.json', import.meta.url);
const committed = JSON.parse(readFileSync(FILE, 'utf8')) as Record<string, unknown>;

describe('released machine definitions', () => {
  test('every released definition has a committed fingerprint, and every fingerprint a definition', () => {
    const missing = Object.keys(RELEASED.definitions).filter((key) => !(key in committed));
    if (missing.length > 0 && process.env['OVERSEER_RECORD_FINGERPRINTS'] === '1') {
      for (const key of missing) committed[key] = machineFingerprint(RELEASED.definitions[key]!);
      writeFileSync(FILE, `${JSON.stringify(committed, null, 2)}\n`);
    }
    expect(missing.filter((key) => !(key in committed)), 'record the new version\'s fingerprint: OVERSEER_RECORD_FINGERPRINTS=1 npx vitest run test/machines/fingerprints.test.ts').toEqual([]);
    expect(Object.keys(committed).filter((key) => !(key in RELEASED.definitions)), 'a released definition was removed: keep it in the tree (docs/versions.md)').toEqual([]);
  });

  test.each(Object.keys(RELEASED.definitions))('%s is as released', (key) => {
    expect(
      machineFingerprint(RELEASED.definitions[key]!),
      `machine ${key} changed since it was released. Runs recorded under it must keep folding as they did: restore it, or make the change a new version (copy it into machines/vN/, bump its version in machines/versions.ts, add a migration step from the old one, record the new fingerprint) — see docs/versions.md`,
    ).toEqual(committed[key]);
  });

  test('every version after the first has a migration step from the one before', () => {
    for (const key of Object.keys(RELEASED.definitions)) {
      const [name, n] = key.split('@') as [string, string];
      if (Number(n) > 1) expect(RELEASED.migrations, `no migration from ${name}@${String(Number(n) - 1)} to ${key}`).toHaveProperty(`${name}@${String(Number(n) - 1)}`);
    }
  });
});
