/**
 * `overseer verify` finds an event changed, or removed, behind the store's back (plain SQL on the
 * database) and names the first broken one; an untouched run is intact.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';

describe.each(testBackends())('overseer verify on $name', (backend) => {
  let target: TestTarget;
  let cwd: string;
  let plan: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  async function newRun(): Promise<string> {
    const run = await cli(['run', '--plan', plan, '--auto-approve', '--json']);
    expect(run.code).toBe(0);
    return (JSON.parse(run.stdout) as { runId: string }).runId;
  }

  async function eventAt(runId: string, version: number): Promise<{ position: string; type: string }> {
    const [row] = await target.query<{ position: string; type: string }>('select position::text as position, type from events where stream_id = $1 and version = $2', [runId, version]);
    return row!;
  }

  beforeAll(async () => {
    target = await backend.newTarget();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-verify-'));
    plan = join(cwd, 'plan.json');
    await writeFile(plan, JSON.stringify({ packets: [{ id: 'one', objective: 'echo', command: 'echo one' }, { id: 'two', objective: 'echo', command: 'echo two', dependsOn: ['one'] }] }));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  it('reports an intact run with exit 0', async () => {
    const runId = await newRun();
    const result = await cli(['verify', runId]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^run ${runId}: \\d+ events, hash chain and versions intact\\n$`));
    const json = await cli(['verify', runId, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId, intact: true, broken: null });
  });

  it('finds an event whose payload was changed, and exits 1', async () => {
    const runId = await newRun();
    const before = await eventAt(runId, 4);
    await target.query(`update events set payload = payload || '{"tampered": true}'::jsonb where stream_id = $1 and version = 4`, [runId]);

    const result = await cli(['verify', runId]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `run ${runId}: chain broken at position ${before.position} (version 4, ${before.type}): its content does not match its hash (it was changed after it was written) [hash_mismatch]\n`,
    );
    const json = await cli(['verify', runId, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId, intact: false, broken: { position: before.position, version: 4, type: before.type, reason: 'hash_mismatch' } });
  });

  it('finds a removed event at the one after it', async () => {
    const runId = await newRun();
    const after = await eventAt(runId, 3);
    await target.query('delete from events where stream_id = $1 and version = 2', [runId]);
    const result = await cli(['verify', runId]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`chain broken at position ${after.position} (version 3, ${after.type})`);
    expect(result.stdout).toContain('[version_gap]');
  });

  it('exits 2 for a run that is not there', async () => {
    const result = await cli(['verify', 'nosuchrun']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('no run nosuchrun in this store\n');
  });
});
