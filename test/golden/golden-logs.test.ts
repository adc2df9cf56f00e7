/**
 * Golden logs: runs recorded by each released version (test/golden/<version>/, made by record.sh and
 * never edited) must import, replay and verify under this build, export back as they were, and the
 * open ones must resume to their end. A version bump adds its own folder beside the old ones.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';
import { GOLDEN_LOGS as GOLDEN, goldenLog, goldenLogPath } from '../support/golden-logs.js';

/**
 * A line without what the importing store gives it anew: its global position (same order) and its lease
 * epoch (imported events are stored at epoch 0; lines of earlier releases have none). Neither is hashed.
 */
const unplaced = (line: string) => {
  const { position: _position, epoch: _epoch, ...rest } = JSON.parse(line) as Record<string, unknown>;
  return rest;
};

describe.each(testBackends())('golden logs on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'overseer-golden-'));
    target = await backend.newTarget();
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('has the golden logs of every released version', () => {
    expect(GOLDEN.filter((f) => f.startsWith('v1/')).sort()).toEqual(
      // events-json-before-export: `events --json` of the release before export existed (commit 40b6059, on PGlite).
      ['cancelled', 'completed-dag', 'denied', 'events-json-before-export', 'retry', 'seed-services', 'waiting-at-trust-gate'].map((n) => `v1/${n}.jsonl`),
    );
    // workflow@1+worker@2: the same runs, and agent lanes.
    expect(GOLDEN.filter((f) => f.startsWith('v2/')).sort()).toEqual(
      ['agent-lanes', 'cancelled', 'completed-dag', 'denied', 'retry', 'seed-services', 'waiting-at-trust-gate'].map((n) => `v2/${n}.jsonl`),
    );
  });

  it.each(GOLDEN)('%s imports, replays, verifies and exports back as it was', async (file) => {
    const text = goldenLog(file);
    const imported = await cli(['import', goldenLogPath(file), '--json']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    const { runId, events } = JSON.parse(imported.stdout) as { runId: string; events: number };
    expect(events).toBe(text.trim().split('\n').length);
    expect((await cli(['verify', runId])).code).toBe(0);
    const replay = await cli(['replay', runId, '--json']);
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(0);
    const exported = await cli(['export', runId]);
    expect(exported.stdout.trim().split('\n').map(unplaced)).toEqual(text.trim().split('\n').map(unplaced));
  });

  it('resumes the open run: approved at its trust gate, it completes', async () => {
    const file = goldenLogPath('v1/waiting-at-trust-gate.jsonl');
    const runId = (JSON.parse(goldenLog('v1/waiting-at-trust-gate.jsonl').split('\n')[0]!) as { payload: { runId: string } }).payload.runId;
    // Imported by the test above in this same store, or here when run alone.
    if ((await target.query('select 1 from runs where run_id = $1', [runId])).length === 0) expect((await cli(['import', file])).code).toBe(0);
    expect(JSON.parse((await cli(['status', runId, '--json'])).stdout)).toMatchObject({ status: 'waiting' });
    expect((await cli(['approve', runId, 'gated'])).code).toBe(0);
    const resumed = await cli(['resume', runId, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ runId, status: 'completed' });
    expect((await cli(['verify', runId])).code).toBe(0);
  });
});
