/**
 * `overseer verify` finds an event changed, or removed, behind the store's back (plain SQL on the
 * database) and names the first broken one; an untouched run is intact. A log cut short at its end
 * keeps an intact chain, so verify holds it against what the run's snapshot and runs row say it
 * reached; and status, replay and resume believe the log, not those caches.
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
  let longPlan: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  async function newRun(planFile = plan): Promise<string> {
    const run = await cli(['run', '--plan', planFile, '--auto-approve', '--json']);
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
    longPlan = join(cwd, 'long-plan.json');
    await writeFile(longPlan, JSON.stringify({ packets: Array.from({ length: 20 }, (_, i) => ({ id: `t${String(i)}`, objective: 'echo', command: `echo ${String(i)}` })) }));
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
    expect(JSON.parse(json.stdout)).toMatchObject({ runId, intact: true, broken: null, truncated: null });
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

  // Many commands, each opening the store, on a busy machine: a generous budget, not a claim about speed.
  it('a log cut short after the run completed: nothing claims completion, and verify names the truncation', async () => {
    const runId = await newRun(longPlan);
    const [head] = await target.query<{ last: number }>('select max(version)::int as last from events where stream_id = $1', [runId]);
    const reached = head!.last;
    expect(reached).toBeGreaterThan(80);
    // Intact, its snapshot and runs row agree with the log's end.
    expect((await cli(['verify', runId])).code).toBe(0);
    const kept = 60;
    const last = await eventAt(runId, kept);
    await target.query('delete from events where stream_id = $1 and version > $2', [runId, kept]);

    const status = await cli(['status', runId, '--json']);
    expect(status.code).toBe(0);
    const summary = JSON.parse(status.stdout) as { status: string; tasks: Record<string, number> };
    expect(summary.status).not.toBe('completed');
    expect(summary.tasks.done ?? 0).toBeLessThan(20);

    // Replay folds the log itself: status must say what replay says at the log's last event.
    const replay = await cli(['replay', runId, '--to', last.position, '--json']);
    expect(replay.code).toBe(0);
    const replayed = JSON.parse(replay.stdout) as { version: number; status: string; tasks: Record<string, number> };
    expect(replayed.version).toBe(kept);
    expect({ status: summary.status, tasks: summary.tasks }).toEqual({ status: replayed.status, tasks: replayed.tasks });

    const resume = await cli(['resume', runId]);
    expect(resume.code).toBe(2);
    expect(resume.stdout).toBe('');
    expect(resume.stderr).toBe(
      `overseer resume: run ${runId} lost events from its end: the log ends at version ${String(kept)} but the run's snapshot says it reached version ${String(reached)} and the runs row says the run is completed; see overseer verify ${runId}\n`,
    );
    const [after] = await target.query<{ last: number }>('select max(version)::int as last from events where stream_id = $1', [runId]);
    expect(after!.last).toBe(kept);

    const verify = await cli(['verify', runId]);
    expect(verify.code).toBe(1);
    expect(verify.stdout).toBe(
      `run ${runId}: truncated: the log ends at version ${String(kept)} but the run's snapshot says it reached version ${String(reached)} and the runs row says the run is completed (events were removed from its end) [truncated]\n`,
    );
    const json = await cli(['verify', runId, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      runId,
      events: kept,
      intact: false,
      broken: null,
      truncated: { logVersion: kept, snapshotVersion: reached, runStatus: 'completed' },
    });
  }, 180_000);

  it('a log cut short behind the runs row alone (no snapshot) is found too', async () => {
    const runId = await newRun(longPlan);
    await target.query('delete from run_snapshots where stream_id = $1', [runId]);
    await target.query('delete from events where stream_id = $1 and version > 60', [runId]);
    const verify = await cli(['verify', runId, '--json']);
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout)).toMatchObject({ intact: false, broken: null, truncated: { logVersion: 60, snapshotVersion: null, runStatus: 'completed' } });
    const status = await cli(['status', runId, '--json']);
    expect((JSON.parse(status.stdout) as { status: string }).status).not.toBe('completed');
  }, 180_000);

  it('exits 2 for a run that is not there', async () => {
    const result = await cli(['verify', 'nosuchrun']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('no run nosuchrun in this store\n');
  });
});
