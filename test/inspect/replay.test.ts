/**
 * Replay is the live run: a run driven by the real engine (fake processes, a manual clock) is
 * recorded after every commit, and replaying its log to each of those positions gives exactly the
 * state the engine had there. A log the machines would not have written is refused by `overseer
 * replay` with one line and exit 2, as is a run recorded with other machine definitions.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RECIPES } from '../../machines/recovery.js';
import type { TrustResolver } from '../../src/gates/trust-resolver.js';
import { approvalEvent } from '../../src/engine/human-decisions.js';
import { replaySteps, replayTo } from '../../src/inspect/replay.js';
import { persistRunState } from '../../src/fold/run-state.js';
import { startRun } from '../../src/engine/start-run.js';
import { writeToRun } from '../../src/engine/write-to-run.js';
import type { EventStore } from '../../src/store/event-store.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { overseer } from '../support/cli.js';
import { fakeWorkerDriver, manualClock } from '../support/fake-worker-driver.js';

const RETRY = { ...DEFAULT_RECIPES.exit_nonzero, maxAttempts: 3, initialDelayMs: 1000, escalation: 'skip' as const };

describe.each(testBackends())('replay on $name', (backend) => {
  let target: TestTarget;
  let store: EventStore;
  let cwd: string;
  const cli = (args: string[]) => overseer([...args, '--db', target.db], { cwd });

  beforeAll(async () => {
    target = await backend.newTarget();
    store = await target.open();
    cwd = await mkdtemp(join(tmpdir(), 'overseer-replay-'));
  });
  afterAll(async () => {
    await store.close();
    await target.dispose();
    await rm(cwd, { recursive: true, force: true });
  });

  /** A run with a retry on a back-off timer, a worker held at its trust gate and approved from outside, and dependencies. */
  async function recordedRun() {
    const driver = fakeWorkerDriver();
    const clock = manualClock();
    const trust: TrustResolver = ({ packet }) => (packet.id === 'gated' ? { decision: 'ask', source: 'test' } : { decision: 'trust', source: 'test' });
    const engine = await startRun(
      { store, clock, driver, trust, random: () => 0.5 },
      {
        objective: 'replay',
        cwd,
        concurrency: 2,
        packets: [
          { id: 'flaky', objective: 'fails once', command: 'x', recipes: { ...DEFAULT_RECIPES, exit_nonzero: RETRY } },
          { id: 'gated', objective: 'waits for a person', command: 'x' },
          { id: 'last', objective: 'after both', command: 'x', dependsOn: ['flaky', 'gated'] },
        ],
        autoApprove: false,
        workerCommand: null,
      },
    );
    const live = new Map<number, unknown>([[engine.current.version, persistRunState(engine.current)]]);
    engine.onCommit((_, state) => live.set(state.version, persistRunState(state)));
    await engine.idle();
    driver.exit('flaky', 1);
    await engine.idle();
    clock.advance(60_000);
    await engine.idle();
    await writeToRun(store, engine.runId, (state) => approvalEvent(state, 'gated', true, { by: 'dana', source: 'test' }));
    await engine.idle();
    driver.exit('flaky', 0);
    await engine.idle();
    driver.exit('gated', 0);
    await engine.idle();
    driver.exit('last', 0);
    const end = await engine.finished;
    expect(end.workflow.value).toBe('completed');
    return { runId: engine.runId, live };
  }

  it('replaying to every position the live engine held gives the state it had there', async () => {
    const { runId, live } = await recordedRun();
    const events = await store.readStream(runId);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['recovery.attempted', 'timer.fired', 'trust.approved', 'recovery.succeeded']));
    // Every commit of the engine (its own and the approval another writer stored) was seen.
    expect(live.size).toBeGreaterThan(8);
    for (const [version, snapshot] of live) {
      const event = events[version - 1];
      if (event === undefined) throw new Error(`no event at version ${String(version)}`);
      const step = replayTo(events, event.position);
      expect(step?.event.version).toBe(version);
      expect(persistRunState(step!.state)).toEqual(snapshot);
    }
    // And stepping through every event meets each of them once, in order, with the states recorded in the log.
    const steps = [...replaySteps(events)].map((s) => ({ version: s.event.version, workflow: s.workflow }));
    expect(steps.map((s) => s.version)).toEqual(events.map((e) => e.version));
    expect(steps.at(-1)?.workflow).toBe('completed');
    // A recorded state the machines do not reach is a log they did not write.
    const started = events.find((e) => e.type === 'process.started')!;
    const altered = events.map((e) => (e === started ? { ...e, stateAfter: 'done' } : e));
    expect(() => [...replaySteps(altered)]).toThrow(`event ${String(started.position)} (process.started, version ${String(started.version)}) recorded the state "done" but the machines reach "running"`);

    const stepped = await cli(['replay', runId, '--json']);
    expect(stepped.code).toBe(0);
    const lines = stepped.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; workerId: string | null; changed: Array<{ from: string | null; to: string }> });
    expect(lines).toHaveLength(events.length);
    const retried = lines.filter((l) => l.workerId === 'flaky' && l.changed.some((c) => c.from === 'running' && c.to === 'retrying'));
    expect(retried).toHaveLength(1);

    const approval = events.find((e) => e.type === 'trust.approved');
    const at = await cli(['replay', runId, '--to', String(approval!.position), '--json']);
    expect(at.code).toBe(0);
    const snapshot = JSON.parse(at.stdout) as { status: string; workflow: string; workers: Array<{ workerId: string; state: string }> };
    expect(snapshot.workflow).toBe('dispatching');
    expect(snapshot.workers.find((w) => w.workerId === 'gated')?.state).toBe('trusted');
    expect(snapshot.workers.map((w) => w.workerId)).not.toContain('last');

    const text = await cli(['replay', runId, '--to', String(approval!.position)]);
    expect(text.stdout).toContain(`run ${runId} at position ${String(approval!.position)}`);
    expect(text.stdout).toMatch(/gated\s+trusted/);
  });

  it('refuses a log with an event the machines do not accept in that state', async () => {
    const driver = fakeWorkerDriver();
    const engine = await startRun(
      { store, clock: manualClock(), driver, trust: () => ({ decision: 'trust', source: 'test' }), random: () => 0.5 },
      { objective: 'tampered', cwd, concurrency: 1, packets: [{ id: 'solo', objective: 'run', command: 'x' }], autoApprove: false, workerCommand: null },
    );
    await engine.idle();
    expect(engine.current.workers['solo']?.value).toBe('running');
    await engine.stop();
    // Schema-valid, but a running worker has no trust gate to pass.
    await store.append(engine.runId, engine.current.version, [
      { type: 'trust.approved', machine: 'worker', workerId: 'solo', payload: { by: 'mallory', source: 'sql' }, stateAfter: 'trusted' },
    ]);
    const bogus = (await store.readStream(engine.runId)).at(-1)!;

    for (const args of [['replay', engine.runId], ['replay', engine.runId, '--json'], ['replay', engine.runId, '--to', String(bogus.position)]]) {
      const result = await cli(args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        `overseer replay: run ${engine.runId} cannot be replayed: event ${String(bogus.position)} (trust.approved, version ${String(bogus.version)}) does not fit the machines: worker solo was "running"`,
      ]);
    }
    // The past before the bad event can still be looked at.
    const before = await cli(['replay', engine.runId, '--to', String(bogus.position - 1n), '--json']);
    expect(before.code).toBe(0);
  });

  it('refuses a run recorded with other machine definitions', async () => {
    const runId = `old${String(Date.now() % 100000)}`;
    const payload = { runId, objective: 'old', cwd, runDir: cwd, machineVersion: 'workflow@0+worker@0', concurrency: 1, packets: null, autoApprove: false, workerCommand: null, policy: null };
    await store.startRun({ runId, objective: 'old', cwd, machineVersion: 'workflow@0+worker@0', status: 'running' }, [
      { type: 'run.started', machine: 'workflow', workerId: null, payload, stateAfter: 'planning' },
    ]);
    const result = await cli(['replay', runId]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^overseer replay: run \w+ cannot be replayed: run \w+ was recorded with machines workflow@0\+worker@0, which this Overseer does not know \(it knows workflow@1, worker@1, worker@2\)\n$/);
  });

  it('says so when --to is before the run or not a position', async () => {
    const runId = (await store.listRuns(1))[0]!.runId;
    const early = await cli(['replay', runId, '--to', '0']);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain(`run ${runId} has no event at or before position 0`);
    const bad = await cli(['replay', runId, '--to', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('--to: expected an event position (a whole number, as `overseer events` shows), got "yesterday"\n');
  });
});
