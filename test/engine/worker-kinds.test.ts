/**
 * A worker kind is one file behind one interface: a third kind, registered beside the shell and
 * service kinds, runs its packets through the real engine — its own trust, prepare, start, finish and
 * kill — while the other packets of the same run go on through the shell kind, with no engine change.
 */
import { describe, expect, it } from 'vitest';
import type { WorkerProcess } from '../../machines/events.js';
import { DEFAULT_RECIPES } from '../../machines/recovery.js';
import { startRun } from '../../src/engine/start-run.js';
import { rebuildRun } from '../../src/fold/rebuild-run.js';
import { persistRunState } from '../../src/fold/run-state.js';
import type { WorkerExit } from '../../src/workers/worker-driver.js';
import type { KindSession, WorkerKind } from '../../src/workers/kinds/worker-kind.js';
import { defaultWorkerKinds, WorkerKinds } from '../../src/workers/kinds/worker-kinds.js';
import { testBackends, useStore } from '../support/backends.js';
import { fakeWorkerDriver, manualClock } from '../support/fake-worker-driver.js';

/** A kind that stands for a coding agent: it claims packets with `kind: 'fake'` and logs each step it is asked for. */
function fakeKind() {
  const steps: string[] = [];
  const exits = new Map<string, (exit: WorkerExit) => void>();
  let nextPid = 5000;
  const session: KindSession = {
    async decideTrust(worker) {
      steps.push(`trust ${worker.view().workerId}`);
      await worker.report([{ type: 'trust.decided', payload: { decision: 'trust', source: 'fake:agrees' } }]);
    },
    prepare(worker) {
      const { workerId, attempt } = worker.view();
      steps.push(`prepare ${workerId}#${String(attempt)}`);
      return Promise.resolve({ ok: true });
    },
    async start(worker) {
      const { workerId, attempt, run } = worker.view();
      steps.push(`start ${workerId}#${String(attempt)}`);
      const process: WorkerProcess = { pid: nextPid++, processStartTime: 'fake', logFile: `${run.runDir}/${workerId}.fake.log`, statusFile: '' };
      await worker.report([{ type: 'process.started', payload: { ...process, attempt } }]);
      worker.watchExit(new Promise((resolve) => exits.set(workerId, resolve)));
    },
    reattach: () => Promise.resolve('lost'),
    kill(worker, pid) {
      steps.push(`kill ${worker.workerId} pid ${String(pid)}`);
      return Promise.resolve();
    },
    // Like an agent whose work fails to merge: a clean exit on the first attempt is reported as a failure.
    finish(worker, exit) {
      const { workerId, attempt } = worker.view();
      steps.push(`finish ${workerId}#${String(attempt)} code ${String(exit.code)}`);
      return Promise.resolve(attempt === 1 ? { code: 1, signal: null } : exit);
    },
  };
  const kind: WorkerKind = { name: 'fake', runs: (packet) => packet['kind'] === 'fake', trust: 'session', open: () => session };
  return { kind, steps, exit: (workerId: string, code: number) => exits.get(workerId)?.({ code, signal: null }) };
}

describe.each(testBackends())('a third worker kind on $name', (backend) => {
  const fixture = useStore(backend);

  async function start(packets: Array<{ id: string } & Record<string, unknown>>) {
    const driver = fakeWorkerDriver();
    const fake = fakeKind();
    const clock = manualClock();
    const kinds = new WorkerKinds([fake.kind, ...defaultWorkerKinds({ driver }).kinds]);
    const engine = await startRun(
      // No trust override: the shell packet is decided by the run's recorded policy (--auto-approve).
      { store: fixture.store, clock, driver, kinds, random: () => 0.5 },
      {
        objective: 'kinds',
        cwd: '/tmp',
        concurrency: 4,
        packets: packets.map((p) => ({ objective: p.id, dependsOn: [], ...p })),
        autoApprove: true,
        workerCommand: null,
      },
    );
    await engine.idle();
    return { engine, driver, fake, clock };
  }

  it('runs its packets through its own steps, beside a shell packet of the same run', async () => {
    const retryOnce = { ...DEFAULT_RECIPES, exit_nonzero: { maxAttempts: 2, initialDelayMs: 0, factor: 1, maxDelayMs: 0, jitter: 0, escalation: 'fail_run' } };
    const { engine, driver, fake, clock } = await start([
      { id: 'agent', kind: 'fake', recipes: retryOnce },
      { id: 'shell', command: 'true' },
    ]);
    expect(driver.started.map((s) => s.workerId)).toEqual(['shell']);
    expect(engine.current.workers['agent']?.context.trustSource).toBe('fake:agrees');
    expect(engine.current.workers['shell']?.context.trustSource).toBe('flag:--auto-approve');

    fake.exit('agent', 0);
    await engine.idle();
    clock.advance(0);
    await engine.idle();
    fake.exit('agent', 0);
    driver.exit('shell', 0);
    const final = await engine.finished;

    expect(final.workflow.value).toBe('completed');
    expect(fake.steps).toEqual(['trust agent', 'prepare agent#1', 'start agent#1', 'finish agent#1 code 0', 'prepare agent#2', 'start agent#2', 'finish agent#2 code 0']);
    const agentEvents = (await fixture.store.readStream(engine.runId)).filter((e) => e.workerId === 'agent').map((e) => e.type);
    expect(agentEvents).toEqual([
      'worker.spawned',
      'trust.decided',
      'process.started',
      'process.exited',
      'recovery.attempted',
      'timer.fired',
      'process.started',
      'process.exited',
      'recovery.succeeded',
    ]);
    expect(persistRunState(await rebuildRun(fixture.store, engine.runId))).toEqual(persistRunState(final));
  });

  it('is asked to kill its own process when the attempt times out', async () => {
    const once = { ...DEFAULT_RECIPES, timeout: { maxAttempts: 1, initialDelayMs: 0, factor: 1, maxDelayMs: 0, jitter: 0, escalation: 'skip' } };
    const { engine, driver, fake, clock } = await start([{ id: 'slow', kind: 'fake', timeoutMs: 5000, recipes: once }]);
    const pid = engine.current.workers['slow']?.context.process?.pid;
    clock.advance(5000);
    const final = await engine.finished;
    expect(final.workers['slow']?.value).toBe('failed');
    expect(fake.steps).toContain(`kill slow pid ${String(pid)}`);
    expect(driver.killed).toEqual([]);
  });
});
