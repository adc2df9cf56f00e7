/**
 * Every failure kind reaches its recipe's outcome: retries with the seeded back-off schedule, then
 * the escalation (skip, fail_run, ask_human). A fake clock and a fake process driver let each test
 * choose every outcome; the engine, the machines and the fixture.store are real.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_RECIPES, type RecoveryRecipe, type RecoveryRecipes } from '../../machines/recovery.js';
import type { RunEngine } from '../../src/engine/run-engine.js';
import { deriveRunStatus } from '../../src/fold/run-status.js';
import { rebuildRun } from '../../src/fold/rebuild-run.js';
import { persistRunState } from '../../src/fold/run-state.js';
import { startRun } from '../../src/engine/start-run.js';
import { approvalEvent } from '../../src/engine/human-decisions.js';
import { writeToRun } from '../../src/engine/write-to-run.js';
import type { StoredEvent } from '../../src/store/event-store.js';
import type { TrustResolver } from '../../src/gates/trust-resolver.js';
import { testBackends, useStore } from '../support/backends.js';
import { fakeWorkerDriver, manualClock, type FakeWorkerDriver } from '../support/fake-worker-driver.js';

const RETRY_3: RecoveryRecipe = { maxAttempts: 3, initialDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0.5, escalation: 'skip' };
const SEED_RANDOM = 0.25; // every worker's seed is floor(0.25 * 2^31)
const SEED = Math.floor(SEED_RANDOM * 2 ** 31);

function recipes(overrides: Partial<RecoveryRecipes>): RecoveryRecipes {
  return { ...DEFAULT_RECIPES, ...overrides };
}

interface Packet {
  id: string;
  dependsOn?: string[];
  recipes?: RecoveryRecipes;
  timeoutMs?: number;
  gates?: Array<{ command: string; level: string }>;
}

describe.each(testBackends())('recovery on $name', (backend) => {
  const fixture = useStore(backend);

  async function start(packets: Packet[], trust: TrustResolver = () => ({ decision: 'trust', source: 'test' })) {
    const driver = fakeWorkerDriver();
    const clock = manualClock();
    const engine = await startRun(
      { store: fixture.store, clock, driver, trust, random: () => SEED_RANDOM },
      {
        objective: 'recovery',
        cwd: '/tmp',
        concurrency: 4,
        packets: packets.map((p) => ({ objective: p.id, command: 'x', dependsOn: [], ...p })),
        autoApprove: false,
        workerCommand: null,
      },
    );
    await engine.idle();
    return { engine, driver, clock };
  }
  const log = (engine: RunEngine): Promise<StoredEvent[]> => fixture.store.readStream(engine.runId);
  const types = async (engine: RunEngine, workerId: string) => (await log(engine)).filter((e) => e.workerId === workerId).map((e) => e.type);
  async function exit(engine: RunEngine, driver: FakeWorkerDriver, workerId: string, code: number) {
    driver.exit(workerId, code);
    await engine.idle();
  }

  it('exit_nonzero retries on the seeded back-off schedule and recovers', async () => {
    const { engine, driver, clock } = await start([{ id: 'flaky', recipes: recipes({ exit_nonzero: RETRY_3 }) }]);
    await exit(engine, driver, 'flaky', 1);
    expect(clock.pending()).toEqual([backoffDelayMs(RETRY_3, 1, SEED)]);
    // The pending back-off lives in the log: a rebuild has the same timer, due at the same moment.
    expect(persistRunState(await rebuildRun(fixture.store, engine.runId))).toEqual(persistRunState(engine.current));
    clock.advance(backoffDelayMs(RETRY_3, 1, SEED));
    await engine.idle();
    await exit(engine, driver, 'flaky', 1);
    // Exponential: the second delay is about twice the first, within the jitter.
    expect(clock.pending()).toEqual([backoffDelayMs(RETRY_3, 2, SEED)]);
    expect(backoffDelayMs(RETRY_3, 2, SEED)).toBeGreaterThanOrEqual(1000);
    expect(backoffDelayMs(RETRY_3, 2, SEED)).toBeLessThanOrEqual(2000);
    clock.advance(backoffDelayMs(RETRY_3, 2, SEED));
    await engine.idle();
    await exit(engine, driver, 'flaky', 0);

    const attempts = (await log(engine)).filter((e) => e.type === 'recovery.attempted').map((e) => e.payload);
    expect(attempts).toEqual([
      { kind: 'exit_nonzero', attempt: 2, delayMs: backoffDelayMs(RETRY_3, 1, SEED) },
      { kind: 'exit_nonzero', attempt: 3, delayMs: backoffDelayMs(RETRY_3, 2, SEED) },
    ]);
    expect(await types(engine, 'flaky')).toContain('recovery.succeeded');
    expect(driver.started.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect((await engine.finished).workflow.value).toBe('completed');
  });

  it('when attempts run out, skip escalation skips the dependents and fails the run', async () => {
    const { engine, driver, clock } = await start([
      { id: 'broken', recipes: recipes({ exit_nonzero: { ...RETRY_3, maxAttempts: 2 } }) },
      { id: 'needs-broken', dependsOn: ['broken'] },
      { id: 'other' },
    ]);
    await exit(engine, driver, 'broken', 2);
    clock.advance(60_000);
    await engine.idle();
    await exit(engine, driver, 'broken', 2);
    await exit(engine, driver, 'other', 0);
    const end = await engine.finished;
    expect(end.workflow.value).toBe('failed');
    expect(end.workflow.context.tasks.entries().map((t) => [t.id, t.status])).toEqual([
      ['broken', 'failed'],
      ['needs-broken', 'skipped'],
      ['other', 'done'],
    ]);
    expect((await log(engine)).find((e) => e.type === 'recovery.exhausted')?.payload).toEqual({ kind: 'exit_nonzero', attempts: 2, escalation: 'skip' });
  });

  it('fail_run cancels the other running workers and fails at once', async () => {
    const { engine, driver } = await start([{ id: 'fatal', recipes: recipes({ exit_nonzero: { ...DEFAULT_RECIPES.exit_nonzero, escalation: 'fail_run' } }) }, { id: 'slow' }]);
    await exit(engine, driver, 'fatal', 9);
    const end = await engine.finished;
    expect(end.workflow.value).toBe('failed');
    expect(end.workers['slow']?.value).toBe('cancelled');
    expect(driver.killed).toContain(driver.pidOf('slow'));
  });

  it('ask_human waits for a person; approve grants another attempt', async () => {
    const { engine, driver } = await start([{ id: 'stuck', recipes: recipes({ exit_nonzero: { ...DEFAULT_RECIPES.exit_nonzero, escalation: 'ask_human' } }) }]);
    await exit(engine, driver, 'stuck', 1);
    expect(engine.current.workers['stuck']?.value).toBe('escalated');
    expect(deriveRunStatus(engine.current)).toBe('waiting');
    await writeToRun(fixture.store, engine.runId, (state) => approvalEvent(state, 'stuck', true, { by: 'dana', source: 'test' }));
    await waitFor(() => driver.started.length === 2);
    await engine.idle();
    await exit(engine, driver, 'stuck', 0);
    expect((await engine.finished).workflow.value).toBe('completed');
    expect(await types(engine, 'stuck')).toEqual(expect.arrayContaining(['escalated', 'human.retry', 'recovery.succeeded']));
  });

  it('timeout fires from the log, kills the process tree, and retries', async () => {
    const { engine, driver, clock } = await start([{ id: 'hangs', timeoutMs: 5000, recipes: recipes({ timeout: { ...RETRY_3, maxAttempts: 2 } }) }]);
    const pid = driver.pidOf('hangs');
    expect(persistRunState(await rebuildRun(fixture.store, engine.runId))).toEqual(persistRunState(engine.current));
    expect(Object.values(engine.current.timers).map((t) => t.dueAt - clock.now())).toEqual([5000]);
    clock.advance(5000);
    await engine.idle();
    expect(driver.killed).toEqual([pid]);
    expect(engine.current.workers['hangs']?.context.failure?.kind).toBe('timeout');
    clock.advance(60_000);
    await engine.idle();
    await exit(engine, driver, 'hangs', 0);
    expect((await engine.finished).workflow.value).toBe('completed');
  });

  it('spawn_failed follows its recipe', async () => {
    const driver0 = fakeWorkerDriver();
    driver0.failNextStart('x', 'no such directory');
    const clock = manualClock();
    const engine = await startRun(
      { store: fixture.store, clock, driver: driver0, trust: () => ({ decision: 'trust', source: 'test' }), random: () => SEED_RANDOM },
      { objective: 'spawn', cwd: '/tmp', concurrency: 1, packets: [{ id: 'x', objective: 'x', command: 'x', dependsOn: [], recipes: recipes({ spawn_failed: RETRY_3 }) }], autoApprove: false, workerCommand: null },
    );
    await engine.idle();
    expect(engine.current.workers['x']?.value).toBe('retrying');
    clock.advance(60_000);
    await engine.idle();
    driver0.exit('x', 0);
    expect((await engine.finished).workflow.value).toBe('completed');
  });

  it('worker_lost (gone without an exit status) follows its recipe', async () => {
    const { engine, driver } = await start([{ id: 'ghost', recipes: recipes({ worker_lost: { ...DEFAULT_RECIPES.worker_lost, maxAttempts: 1 } }) }]);
    await engine.commit([{ type: 'worker.lost', machine: 'worker', workerId: 'ghost', payload: { detail: 'process gone, no status file' } }]);
    const end = await engine.finished;
    expect(end.workers['ghost']?.context.failure).toEqual({ kind: 'worker_lost', detail: 'process gone, no status file' });
    expect(end.workflow.value).toBe('failed');
    expect(driver.started).toHaveLength(1);
  });

  it('records recipes only where they differ from the defaults, and a worker recorded without them recovers by the defaults', async () => {
    const { engine, driver, clock } = await start([
      { id: 'plain', recipes: recipes({}) },
      { id: 'custom', recipes: recipes({ exit_nonzero: RETRY_3 }) },
    ]);
    const events = await log(engine);
    const started = events.find((e) => e.type === 'run.started')?.payload as { packets: Array<Record<string, unknown>> };
    const packets = started.packets;
    expect(packets.map((p) => 'recipes' in p)).toEqual([false, true]);
    expect(packets[1]?.['recipes']).toEqual(recipes({ exit_nonzero: RETRY_3 }));
    const inputs = events.filter((e) => e.type === 'worker.spawned').map((e) => (e.payload as { input: Record<string, unknown> }).input);
    expect(inputs.map((input) => [input['workerId'], 'recipes' in input])).toEqual([
      ['plain', false],
      ['custom', true],
    ]);
    // The defaults, as if they had been recorded: worker_lost gets a second attempt, exit_nonzero none.
    expect(engine.current.workers['plain']?.context.recipes).toEqual(DEFAULT_RECIPES);
    await engine.commit([{ type: 'worker.lost', machine: 'worker', workerId: 'plain', payload: { detail: 'gone' } }]);
    clock.advance(60_000);
    await engine.idle();
    await exit(engine, driver, 'plain', 1);
    await exit(engine, driver, 'custom', 0);
    const end = await engine.finished;
    expect(driver.started.filter((s) => s.workerId === 'plain').map((s) => s.attempt)).toEqual([1, 2]);
    expect(end.workers['plain']?.context.failure?.kind).toBe('exit_nonzero');
    expect(persistRunState(await rebuildRun(fixture.store, engine.runId))).toEqual(persistRunState(end));
  });

  it('gate_red: a red quality gate fails the attempt with its provenance', async () => {
    const { engine, driver } = await start([{ id: 'gated', gates: [{ command: 'echo red >&2; exit 3', level: 'targeted_tests' }] }]);
    driver.exit('gated', 0);
    const end = await engine.finished;
    expect(end.workers['gated']?.context.failure?.kind).toBe('gate_red');
    const failed = (await log(engine)).find((e) => e.type === 'gates.failed');
    expect(failed?.payload).toMatchObject({ gate: 'targeted_tests-1', level: 'targeted_tests', command: 'echo red >&2; exit 3', exitCode: 3 });
  });

  it('trust_denied: a denied worker never starts and its dependents are skipped', async () => {
    const { engine, driver } = await start([{ id: 'no' }, { id: 'after-no', dependsOn: ['no'] }], () => ({ decision: 'deny', source: 'policy:test#rules[0]' }));
    const end = await engine.finished;
    expect(driver.started).toHaveLength(0);
    expect(end.workflow.context.tasks.entries().map((t) => t.status)).toEqual(['denied', 'skipped']);
    expect((await log(engine)).find((e) => e.type === 'trust.decided')?.payload).toEqual({ decision: 'deny', source: 'policy:test#rules[0]' });
  });
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
