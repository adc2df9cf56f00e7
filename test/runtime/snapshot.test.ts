/**
 * Long runs are rebuilt from their latest snapshot plus the events after it, and that gives exactly
 * what folding the whole log gives. A snapshot from other machine definitions is ignored.
 */
import { describe, expect, it } from 'vitest';
import { foldEvents, rebuildRun } from '../../src/runtime/rebuild-run.js';
import { persistRunState } from '../../src/runtime/run-state.js';
import { SNAPSHOT_EVERY } from '../../src/runtime/run-snapshot.js';
import { startRun } from '../../src/runtime/start-run.js';
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
});
