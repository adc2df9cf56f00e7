/**
 * Property: whatever happens to a run, in whatever order, rebuilding it from the fixture.store gives exactly
 * the state the live engine had. Random plans (DAGs with timeouts), random trust decisions and random
 * outcomes are driven through the real engine onto each real fixture.store backend.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldEvents, rebuildRun } from '../../src/fold/rebuild-run.js';
import type { RunEngine } from '../../src/engine/run-engine.js';
import type { RunEvent } from '../../src/fold/run-events.js';
import { persistRunState } from '../../src/fold/run-state.js';
import { startRun } from '../../src/engine/start-run.js';
import { testBackends, useStore } from '../support/backends.js';
import { fakeWorkerDriver, manualClock } from '../support/fake-worker-driver.js';

const planArb = fc
  .integer({ min: 1, max: 6 })
  .chain((n) =>
    fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        fc.record({
          deps: fc.subarray(Array.from({ length: i }, (_, j) => `t${String(j)}`)),
          timeout: fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
        }),
      ),
    ),
  )
  .map((specs) =>
    specs.map((s, i) => ({
      id: `t${String(i)}`,
      objective: `task ${String(i)}`,
      command: 'true',
      dependsOn: s.deps,
      ...(s.timeout === undefined ? {} : { timeoutMs: s.timeout }),
    })),
  );

/** The events a user or the world could send next, given the run's current state. */
function candidates(engine: RunEngine, choice: number): RunEvent[] {
  const state = engine.current;
  const out: RunEvent[] = [];
  const w = (workerId: string, type: string, payload: Record<string, unknown>): RunEvent => ({ type, machine: 'worker', workerId, payload });
  for (const [id, worker] of Object.entries(state.workers)) {
    if (worker.status !== 'active') continue;
    if (worker.value === 'awaitingTrust') {
      out.push(w(id, 'trust.approved', { by: 'alice', source: 'cli', reason: 'ok' }), w(id, 'trust.denied', { by: 'bob', source: 'cli' }));
    } else if (worker.value === 'running') {
      out.push(w(id, 'process.exited', { code: 0, signal: null }), w(id, 'process.exited', { code: 3, signal: null }), w(id, 'worker.lost', { detail: 'gone' }));
    }
  }
  for (const timer of Object.values(state.timers)) {
    out.push({ type: 'timer.fired', machine: timer.machine, workerId: timer.workerId, payload: { timerId: timer.timerId, event: timer.event } });
  }
  // Rarely: a cancelled run is short, and most runs should get far.
  if (state.workflow.status === 'active' && choice % 17 === 0) out.push({ type: 'run.cancel', machine: 'workflow', workerId: null, payload: { by: 'carol', reason: 'enough' } });
  return out;
}

describe.each(testBackends())('rebuildRun on $name', (backend) => {
  const fixture = useStore(backend);

  it('gives exactly the live snapshot for random runs', async () => {
    await fc.assert(
      fc.asyncProperty(planArb, fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), async (packets, choices, trustCoins) => {
        const clock = manualClock();
        let coin = 0;
        const engine = await startRun(
          {
            store: fixture.store,
            clock,
            driver: fakeWorkerDriver(),
            trust: () => ({ decision: trustCoins[coin++ % trustCoins.length] === true ? 'trust' : 'ask', source: 'test' }),
            random: () => 0.5,
          },
          { objective: 'property', cwd: '/tmp', concurrency: 2, packets, autoApprove: false, workerCommand: null },
        );
        await engine.idle();
        for (const choice of choices) {
          const next = candidates(engine, choice);
          if (next.length === 0 || engine.current.workflow.status === 'done') break;
          clock.advance(choice % 997);
          await engine.commit([next[choice % next.length] as RunEvent]);
          await engine.idle();
        }
        await engine.stop();
        // From the first event, and through the snapshot the engine may have left (a finished run).
        const folded = foldEvents(await fixture.store.readStream(engine.runId));
        expect(persistRunState(folded)).toEqual(persistRunState(engine.current));
        const rebuilt = await rebuildRun(fixture.store, engine.runId);
        expect(persistRunState(rebuilt)).toEqual(persistRunState(engine.current));
      }),
      { numRuns: 30 },
    );
  });
});
