/**
 * `overseer import` refuses a log it cannot take as it was — a malformed line, a broken hash chain,
 * a payload the event catalogue refuses, a run already in the store, machines this build does not
 * know — with one line naming the line, exit 2, and nothing written.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashEvent } from '../../src/store/event-hash.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';

const GOLDEN = readFileSync(new URL('../golden/v1/denied.jsonl', import.meta.url), 'utf8');
type Line = Record<string, unknown> & { version: number; at: string; type: string; machine: string; workerId: string | null; stateAfter: unknown; payload: Record<string, unknown>; hash: string };
const lines = (): Line[] => GOLDEN.trim().split('\n').map((l) => JSON.parse(l) as Line);
const text = (ls: readonly Line[]) => ls.map((l) => JSON.stringify(l)).join('\n') + '\n';

/** Hashes the lines again as a writer would have, so only what a test changed on purpose is wrong. */
function rehash(ls: Line[], runId: string): Line[] {
  let prev: string | null = null;
  return ls.map((l) => {
    const hash = hashEvent({ streamId: runId, version: l.version, type: l.type, payload: l.payload, machine: l.machine, workerId: l.workerId, stateAfter: l.stateAfter, createdAt: new Date(l.at), prevHash: prev });
    prev = hash;
    return { ...l, hash };
  });
}

describe.each(testBackends())('import on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });
  const importText = async (name: string, body: string) => {
    await writeFile(join(cwd, name), body);
    return cli(['import', join(cwd, name)]);
  };
  const runCount = async () => Number((await target.query<{ n: string }>('select count(*)::text as n from runs'))[0]?.n);
  const eventCount = async () => Number((await target.query<{ n: string }>('select count(*)::text as n from events'))[0]?.n);

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'overseer-import-'));
    target = await backend.newTarget();
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it.each([
    ['a line that is not JSON', () => text(lines()).replace(/\n(.*)\n$/, '\n{"version": 7,\n'), /: line 7: not JSON \(/],
    ['a line that is not an event', () => text(lines().map((l, i) => (i === 2 ? { ...l, hash: 'abc' } : l))), /: line 3: not an event: hash: expected a sha256 in hex$/],
    ['a changed payload', () => text(lines().map((l, i) => (i === 3 ? { ...l, payload: { ...l.payload, reason: 'why not' } } : l))), /: line 4: hash chain broken at version 4 \(.+\): its content does not match its hash .+\[hash_mismatch\]$/],
    ['a missing event', () => text(lines().filter((_, i) => i !== 1)), /: line 2: hash chain broken at version 3 .+\[version_gap\]$/],
    // Rows read back from the store are not parsed again (storedRunEvent); a file is input, and is.
    ['a payload the event catalogue refuses', () => {
      const ls = lines();
      const runId = ls[0]!.payload['runId'] as string;
      return text(rehash(ls.map((l, i) => (i === 4 ? { ...l, payload: { ...l.payload, decision: 'maybe' } } : l)), runId));
    }, /: line 5: event trust\.decided: decision /],
    ['machines this build does not know', () => {
      const ls = lines();
      const runId = ls[0]!.payload['runId'] as string;
      return text(rehash(ls.map((l, i) => (i === 0 ? { ...l, payload: { ...l.payload, machineVersion: 'workflow@9+worker@9' } } : l)), runId));
    }, /: line 1: run \w+ was recorded with machines workflow@9\+worker@9, which this Overseer does not know \(it knows workflow@1, worker@1, worker@2\)$/],
  ])('refuses %s: exit 2, one line naming the line, nothing written', async (_name, body, message) => {
    const result = await importText('bad.jsonl', body());
    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr.trimEnd()).toMatch(message);
    expect(await runCount()).toBe(0);
    expect(await eventCount()).toBe(0);
  });

  it('refuses a run already in the store, and keeps the one there', async () => {
    expect((await importText('good.jsonl', GOLDEN)).code).toBe(0);
    const events = await eventCount();
    const again = await importText('good.jsonl', GOLDEN);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^overseer import: .+good\.jsonl: line 1: run \w+ is already in this store\n$/);
    expect(await runCount()).toBe(1);
    expect(await eventCount()).toBe(events);
  });
});
