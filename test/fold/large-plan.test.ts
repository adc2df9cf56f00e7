/**
 * A plan of 10,000 tasks — eight interleaved chains, some tasks failing so that the rest of their
 * chain is skipped — run to its end through the engine's batches, then rebuilt: folding its log, and
 * restoring a snapshot taken half-way and folding the rest, give exactly the state the run had, and
 * replay's last step is that state too. Not timed: it shows that a plan this size is handled whole.
 */
import { describe, expect, it } from 'vitest';
import { MACHINE_VERSION } from '../../machines/index.js';
import { foldEvents, foldNext } from '../../src/fold/rebuild-run.js';
import { replaySteps } from '../../src/inspect/replay.js';
import { adoptBatch, buildBatches } from '../../src/fold/run-batch.js';
import type { RunEvent, RunStarted } from '../../src/fold/run-events.js';
import { persistRunState, restoreRunState, startRunState, type RunState } from '../../src/fold/run-state.js';
import { deriveRunStatus } from '../../src/fold/run-status.js';
import type { StoredEvent } from '../../src/store/event-store.js';

const TASKS = 10_000;
const LANES = 8;
/** Every this many tasks one fails (exit code 1, no retries): the rest of its chain is skipped. */
const FAIL_EVERY = 997;

function plan(): RunStarted['packets'] {
  return Array.from({ length: TASKS }, (_, i) => ({
    id: `t${String(i)}`,
    objective: `task ${String(i)}`,
    command: 'true',
    dependsOn: i >= LANES ? [`t${String(i - LANES)}`] : [],
  }));
}

/** Drives the run the way the engine does (each commit folded and adopted), answering every effect at once. */
function runToEnd(): { log: StoredEvent[]; live: RunState } {
  const runStarted: RunStarted = {
    runId: 'large',
    objective: 'a large plan',
    cwd: '/tmp',
    runDir: '/tmp/.overseer/runs/large',
    machineVersion: MACHINE_VERSION,
    concurrency: 16,
    packets: plan(),
    autoApprove: true,
    workerCommand: null,
    policy: null,
    services: { planner: null, bootstrap: null, workerService: null, callTimeoutMs: 30_000 },
    bootstrap: [],
  };
  const at = new Date(Date.UTC(2026, 0, 1));
  const first: RunEvent = { type: 'run.started', machine: 'workflow', workerId: null, payload: runStarted };
  const started = startRunState(first, at);
  const log: StoredEvent[] = [];
  const record = (event: Pick<StoredEvent, 'type' | 'payload' | 'machine' | 'workerId'>, stateAfter: unknown) => {
    const version = log.length + 1;
    log.push({ type: event.type, payload: event.payload, machine: event.machine, workerId: event.workerId, position: BigInt(version), txId: String(version), streamId: 'large', version, createdAt: at, hash: `h${String(version)}`, prevHash: version === 1 ? null : `h${String(version - 1)}`, stateAfter, epoch: 0n });
  };
  record(first, started.stateAfter);
  let state = started.state;
  let inputs: RunEvent[] = [{ type: 'plan.ready', machine: 'workflow', workerId: null, payload: { packets: runStarted.packets } }];
  while (inputs.length > 0) {
    const batch = buildBatches(state, inputs.map((input) => [input]), at, () => 0.5);
    for (const event of batch.events) record(event, event.stateAfter);
    state = adoptBatch(batch);
    inputs = batch.effects.flatMap((effect): RunEvent[] => {
      const workerId = effect.workerId as string;
      if (effect.type !== 'startProcess') return [];
      const pid = Number(workerId.slice(1)) + 10_000;
      const code = Number(workerId.slice(1)) % FAIL_EVERY === FAIL_EVERY - 1 ? 1 : 0;
      return [
        { type: 'process.started', machine: 'worker', workerId, payload: { pid, processStartTime: '1', logFile: `${workerId}.log`, statusFile: `${workerId}.status`, attempt: 1 } },
        { type: 'process.exited', machine: 'worker', workerId, payload: { code, signal: null } },
      ];
    });
  }
  return { log, live: state };
}

describe('a 10,000-task plan', () => {
  it('runs to its end and rebuilds to exactly the state it had, from its log and from a snapshot', { timeout: 600_000 }, () => {
    const { log, live } = runToEnd();
    const persisted = persistRunState(live);
    // A failing task whose chain an earlier failure already skipped never runs.
    const lanesFailed = new Set<number>();
    for (let i = FAIL_EVERY - 1; i < TASKS; i += FAIL_EVERY) lanesFailed.add(i % LANES);
    const failed = lanesFailed.size;
    const tasks = live.workflow.context.tasks;
    expect(tasks.size).toBe(TASKS);
    expect(tasks.count('failed')).toBe(failed);
    expect(tasks.count('skipped')).toBeGreaterThan(0);
    expect(tasks.count('done') + tasks.count('failed') + tasks.count('skipped')).toBe(TASKS);
    expect(deriveRunStatus(live)).toBe('failed');

    expect(persistRunState(foldEvents(log))).toEqual(persisted);

    // A snapshot half-way, as stored (JSON) and read back, then the rest of the log.
    const half = Math.floor(log.length / 2);
    const snapshot = JSON.parse(JSON.stringify(persistRunState(foldEvents(log.slice(0, half))))) as ReturnType<typeof persistRunState>;
    let resumed = restoreRunState(snapshot, live.machines);
    for (const event of log.slice(half)) resumed = foldNext(resumed, event).state;
    expect(persistRunState(resumed)).toEqual(persisted);

    let last: RunState | undefined;
    for (const step of replaySteps(log)) last = step.state;
    expect(last === undefined ? undefined : persistRunState(last)).toEqual(persisted);
  });
});
