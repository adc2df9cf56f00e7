/**
 * Runs recorded under earlier machine definitions keep folding under them, and resume moves them on:
 * a synthetic worker@3 (worker@2 with `awaitingTrust` renamed `awaitingApproval`, and a migration step
 * that renames the state) stands for the next release, without adding one to the product.
 */
import { createMachine, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { workerMachine } from '../../machines/worker.js';
import { RELEASED, type MachineRegistry } from '../../machines/versions.js';
import { resumeRun } from '../../src/engine/resume-run.js';
import { startRun } from '../../src/engine/start-run.js';
import { MachineVersionError, migrationEvent } from '../../src/fold/machine-set.js';
import { foldEvents, rebuildRun } from '../../src/fold/rebuild-run.js';
import { persistRunState } from '../../src/fold/run-state.js';
import { deriveRunStatus } from '../../src/fold/run-status.js';
import { replaySteps } from '../../src/inspect/replay.js';
import { testBackends, useStore } from '../support/backends.js';
import { fakeWorkerDriver, manualClock } from '../support/fake-worker-driver.js';

/** worker@2 with its trust gate's state renamed: a change that needs a new version and a migration. */
function renamedWorker(): AnyStateMachine {
  const config = workerMachine.config as unknown as { states: Record<string, { on?: Record<string, unknown> }> };
  const { awaitingTrust, ...states } = config.states;
  const decided = (states['spawned']?.on?.['trust.decided'] as { target?: string }[]).map((t) => (t.target === 'awaitingTrust' ? { ...t, target: 'awaitingApproval' } : t));
  return createMachine(
    { ...(workerMachine.config as object), states: { ...states, spawned: { ...states['spawned'], on: { ...states['spawned']?.on, 'trust.decided': decided } }, awaitingApproval: awaitingTrust } } as never,
    workerMachine.implementations as never,
  ) as AnyStateMachine;
}

const NEXT: MachineRegistry = {
  definitions: { ...RELEASED.definitions, 'worker@3': renamedWorker() },
  migrations: { ...RELEASED.migrations, 'worker@2': ({ value, context }) => ({ value: value === 'awaitingTrust' ? 'awaitingApproval' : value, context }) },
  current: { workflow: 1, worker: 3 },
};

describe.each(testBackends())('machine versions on $name', (backend) => {
  const fixture = useStore(backend);

  it('resumes a run recorded under worker@2 after migrating it to worker@3, and replays it with each version in turn', async () => {
    const driver = fakeWorkerDriver();
    const deps = { store: fixture.store, clock: manualClock(), driver, trust: () => ({ decision: 'ask' as const, source: 'test' }), random: () => 0.5 };
    const packets = [{ id: 'gated', objective: 'x', command: 'x', dependsOn: [] as string[], timeoutMs: 60_000 }];
    const first = await startRun(deps, { objective: 'waits at its gate', cwd: '/tmp', concurrency: 1, packets, autoApprove: false, workerCommand: null });
    await first.idle();
    expect(first.current.workers['gated']?.value).toBe('awaitingTrust');
    await first.stop();

    const resumed = await resumeRun({ ...deps, machines: NEXT }, first.runId);
    await resumed.idle();
    expect(resumed.current.machines.version).toBe('workflow@1+worker@3');
    expect(resumed.current.workers['gated']?.value).toBe('awaitingApproval');
    await resumed.commit([{ type: 'trust.approved', machine: 'worker', workerId: 'gated', payload: { by: 'tester', source: 'cli' } }]);
    await resumed.idle();
    driver.exit('gated', 0);
    const end = await resumed.finished;
    await resumed.stop();
    expect(deriveRunStatus(end)).toBe('completed');

    const events = await fixture.store.readStream(first.runId);
    const migrated = events.filter((e) => e.type === 'machines.migrated');
    expect(migrated.map((e) => e.payload)).toEqual([{ from: 'workflow@1+worker@2', to: 'workflow@1+worker@3' }]);
    // Replay: the old definitions before the migration, the new ones after it; every recorded state fits.
    // Each step's state is valid until the next one is taken: read it as the replay goes.
    const seen = Array.from(replaySteps(events, NEXT), (step) => ({ type: step.event.type, gated: step.state.workers['gated']?.value, machines: step.state.machines.version }));
    const at = seen.findIndex((s) => s.type === 'machines.migrated');
    expect(seen[at - 1]).toMatchObject({ gated: 'awaitingTrust', machines: 'workflow@1+worker@2' });
    expect(seen[at]).toMatchObject({ gated: 'awaitingApproval', machines: 'workflow@1+worker@3' });
    expect(seen.at(-1)).toMatchObject({ gated: 'done', machines: 'workflow@1+worker@3' });
    // The rebuilt run (from its snapshot, and from the whole log) is the live one.
    expect(persistRunState(await rebuildRun(fixture.store, first.runId, NEXT))).toEqual(persistRunState(end));
    expect(persistRunState(foldEvents(events, NEXT))).toEqual(persistRunState(end));
    // A build that knows only worker@1 and worker@2 refuses the log rather than folding worker@3's events with it.
    expect(() => foldEvents(events)).toThrow(MachineVersionError);
    expect(() => foldEvents(events)).toThrow('machines workflow@1+worker@3, which this Overseer does not know (it knows workflow@1, worker@1, worker@2)');
  });

  it('refuses to resume a run it has no migration for, and writes nothing', async () => {
    const deps = { store: fixture.store, clock: manualClock(), driver: fakeWorkerDriver(), trust: () => ({ decision: 'ask' as const, source: 'test' }), random: () => 0.5 };
    const engine = await startRun(deps, { objective: 'x', cwd: '/tmp', concurrency: 1, packets: [{ id: 'a', objective: 'x', command: 'x' }], autoApprove: false, workerCommand: null });
    await engine.idle();
    await engine.stop();
    const before = (await fixture.store.readStream(engine.runId)).length;
    const stranded: MachineRegistry = { ...NEXT, migrations: {} };
    await expect(resumeRun({ ...deps, machines: stranded }, engine.runId)).rejects.toThrow('a step from worker@2 is missing');
    expect((await fixture.store.readStream(engine.runId)).length).toBe(before);
    expect(migrationEvent(engine.current.machines)).toBeNull();
  });
});
