/**
 * Long runs are rebuilt from their latest snapshot plus the events after it, and that gives exactly
 * what folding the whole log gives. A snapshot from other machine definitions is ignored, and so is
 * one the log does not reach (events were removed from its end): the log is the truth.
 */
import { describe, expect, it } from 'vitest';
import { foldEvents, rebuildRun } from '../../src/fold/rebuild-run.js';
import { resumeRun } from '../../src/engine/resume-run.js';
import { persistRunState } from '../../src/fold/run-state.js';
import { deriveRunStatus } from '../../src/fold/run-status.js';
import { SNAPSHOT_EVERY } from '../../src/fold/run-snapshot.js';
import { startRun } from '../../src/engine/start-run.js';
import { TruncatedLogError } from '../../src/fold/truncated-log.js';
import { testBackends, useStore } from '../support/backends.js';
import { fakeWorkerDriver, manualClock } from '../support/fake-worker-driver.js';

describe.each(testBackends())('snapshots on $name', (backend) => {
  const fixture = useStore(backend);

  it('rebuilds a long run from its snapshot and the tail, as the full fold does', async () => {
    const driver = fakeWorkerDriver();
    const packets = Array.from({ length: 150 }, (_, i) => ({ id: `t${String(i)}`, objective: 'x', command: 'x', dependsOn: [] as string[], timeoutMs: 60_000 }));
    const engine = await startRun(
      { store: fixture.store, clock: manualClock(), driver, trust: () => ({ decision: 'trust', source: 'test' }), random: () => 0.5 },
      { objective: 'long', cwd: '/tmp', concurrency: 8, packets, autoApprove: false, workerCommand: null },
    );
    // Finish workers in waves until the log is well past the first snapshot, leaving the run unfinished.
    const snapshotted = async () => (await fixture.store.loadSnapshot(engine.runId))?.version ?? Number.POSITIVE_INFINITY;
    while (engine.current.version < (await snapshotted()) + 50) {
      await engine.idle();
      for (const [id, worker] of Object.entries(engine.current.workers)) if (worker.value === 'running') driver.exit(id, 0);
    }
    await engine.idle();
    const snapshot = await fixture.store.loadSnapshot(engine.runId);
    expect(engine.current.workflow.status).toBe('active');
    expect(snapshot?.version).toBeGreaterThanOrEqual(SNAPSHOT_EVERY);
    expect(snapshot?.version).toBeLessThan(engine.current.version);

    const live = persistRunState(engine.current);
    expect(persistRunState(await rebuildRun(fixture.store, engine.runId))).toEqual(live);
    expect(persistRunState(foldEvents(await fixture.store.readStream(engine.runId)))).toEqual(live);

    // A snapshot recorded under other machine definitions is not trusted.
    await fixture.target.query(`update run_snapshots set machine_version = 'workflow@0', state = '{}'::jsonb where stream_id = $1`, [engine.runId]);
    expect(persistRunState(await rebuildRun(fixture.store, engine.runId))).toEqual(live);
    await engine.stop();
  });

  it('ignores a snapshot ahead of the log, and resume refuses the cut-short run', async () => {
    const driver = fakeWorkerDriver();
    const packets = Array.from({ length: 20 }, (_, i) => ({ id: `t${String(i)}`, objective: 'x', command: 'x', dependsOn: [] as string[], timeoutMs: 60_000 }));
    const deps = { store: fixture.store, clock: manualClock(), driver, trust: () => ({ decision: 'trust' as const, source: 'test' }), random: () => 0.5 };
    const engine = await startRun(deps, { objective: 'cut short', cwd: '/tmp', concurrency: 4, packets, autoApprove: false, workerCommand: null });
    while (engine.current.workflow.status !== 'done') {
      await engine.idle();
      for (const [id, worker] of Object.entries(engine.current.workers)) if (worker.value === 'running') driver.exit(id, 0);
    }
    const end = await engine.finished;
    await engine.stop();
    expect(deriveRunStatus(end)).toBe('completed');
    // The run's end wrote a snapshot at its last version.
    expect((await fixture.store.loadSnapshot(engine.runId))?.version).toBe(end.version);

    await fixture.target.query('delete from events where stream_id = $1 and version > 60', [engine.runId]);
    const rebuilt = await rebuildRun(fixture.store, engine.runId);
    expect(rebuilt.version).toBe(60);
    expect(persistRunState(rebuilt)).toEqual(persistRunState(foldEvents(await fixture.store.readStream(engine.runId))));
    expect(deriveRunStatus(rebuilt)).not.toBe('completed');

    const resumed = resumeRun(deps, engine.runId);
    await expect(resumed).rejects.toThrow(TruncatedLogError);
    await expect(resumed).rejects.toThrow(`the log ends at version 60 but the run's snapshot says it reached version ${String(end.version)}`);
    expect((await fixture.store.readStream(engine.runId)).length).toBe(60);
    // The refusal let go of the lease: the run is not left owned by nobody alive.
    expect((await fixture.target.query<{ owner_id: string | null }>('select owner_id from runs where run_id = $1', [engine.runId]))[0]?.owner_id).toBeNull();
  });
});
