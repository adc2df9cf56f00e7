/**
 * `overseer fork`: a new run that starts from another run's state at one of its events. Its log is a
 * log like any other, folded by the same machines: the source's `run.started` (settings, plan,
 * machine versions) under a new id with `forkedFrom`, then the source's events up to the position
 * that concern finished work — the workflow's own (plan, bootstrap, every task.finished) and the
 * events of each worker whose task.finished is among them — and none of a worker still in flight
 * there. The workflow's task table therefore has those tasks dispatched with no worker: the fork
 * spawns them afresh (worker.spawned, as `spawnWorkers` would), after moving the run to the current
 * machine definitions (machines.migrated) when it was recorded under older ones. Copying events
 * instead of writing one synthetic "state restored" event keeps every step of the fork's history
 * checkable by replay and verify, with no event type the machines would need to learn.
 */
import { dirname, join } from 'node:path';
import type { MachineRegistry } from '../../machines/versions.js';
import { OverseerError } from '../errors.js';
import { migrationEvent } from '../fold/machine-set.js';
import { RunNotFoundError } from '../fold/rebuild-run.js';
import { adoptBatch, buildBatch, spawnEvent } from '../fold/run-batch.js';
import { parseRunEvent, runStartedSchema, type RunStarted } from '../fold/run-events.js';
import { applyEvent, startRunState, type RunState } from '../fold/run-state.js';
import { deriveRunStatus } from '../fold/run-status.js';
import type { EventStore, NewEvent, RunStatus, StoredEvent } from '../store/event-store.js';
import { ConcurrencyError } from '../store/store-errors.js';
import { replayTo } from './replay.js';

/** A fork that cannot be made as asked: a position not in the run, settings its history does not fit. */
export class ForkError extends OverseerError {
  readonly code = 'USAGE' as const;
}

/** What a fork changes of the source's settings; anything unset is kept. */
export interface ForkOverrides {
  autoApprove?: boolean;
  policy?: RunStarted['policy'];
  concurrency?: number;
}

export interface ForkOptions {
  overrides: ForkOverrides;
  newRunId: () => string;
  now: Date;
  /** Seeds the back-off jitter of the workers spawned afresh, as the engine's own `random`. */
  random: () => number;
  registry?: MachineRegistry;
}

export interface ForkedRun {
  runId: string;
  forkedFrom: { runId: string; position: string };
  /** The events copied from the source, and the workers started afresh. */
  copied: number;
  restarted: string[];
  status: RunStatus;
}

function eventsAt(source: readonly StoredEvent[], runId: string, position: bigint): StoredEvent[] {
  const index = source.findIndex((e) => e.position === position);
  if (index === -1) {
    const range = `${source[0]?.position.toString() ?? '?'}–${source.at(-1)?.position.toString() ?? '?'}`;
    throw new ForkError(`run ${runId} has no event at position ${position.toString()} (its events are at positions ${range}, as overseer events ${runId} shows)`);
  }
  return source.slice(0, index + 1);
}

/** The source's events a fork keeps: the workflow's, and those of workers whose task had finished. */
function finishedWork(prefix: readonly StoredEvent[]): StoredEvent[] {
  const finished = new Set(prefix.filter((e) => e.type === 'task.finished').map((e) => (e.payload as { taskId: string }).taskId));
  return prefix.slice(1).filter((e) => e.workerId === null || finished.has(e.workerId));
}

function forkStarted(source: StoredEvent, runId: string, position: bigint, overrides: ForkOverrides): RunStarted {
  const run = runStartedSchema.parse(source.payload);
  return {
    ...run,
    runId,
    // Beside the source's, so the fork's worker logs never meet the source's (a worker started afresh is not found there).
    runDir: join(dirname(run.runDir), runId),
    autoApprove: overrides.autoApprove ?? run.autoApprove,
    policy: overrides.policy === undefined ? run.policy : overrides.policy,
    concurrency: overrides.concurrency ?? run.concurrency,
    forkedFrom: { runId: run.runId, position: position.toString() },
  };
}

/** Folds a kept event into the fork; refuses one the fork's settings make a different history of. */
function copyInto(state: RunState, event: StoredEvent, at: Date): NewEvent {
  const input = parseRunEvent({ type: event.type, payload: event.payload as Record<string, unknown>, machine: event.machine, workerId: event.workerId });
  const status = event.workerId === null ? undefined : state.workflow.context.tasks.statusOf(event.workerId);
  // Fewer slots than the source had can leave a finished task still pending in the fork: running it
  // again would do finished work twice, so the fork is refused instead.
  if (event.type === 'worker.spawned' && status !== 'dispatched') {
    throw new ForkError(`task ${String(event.workerId)} had started by then, which --concurrency ${String(state.run.concurrency)} would not have allowed; fork with a larger --concurrency`);
  }
  const applied = applyEvent(state, input, at);
  if (applied === null) throw new ForkError(`event ${event.position.toString()} (${event.type}) does not fit the fork's settings`);
  return { ...input, stateAfter: applied.stateAfter, createdAt: at };
}

/** The fork's whole log: run.started, the finished work, the migration if due, the workers started afresh. */
function forkLog(prefix: readonly StoredEvent[], started: RunStarted, options: ForkOptions): { events: NewEvent[]; state: RunState; copied: number; restarted: string[] } {
  const at = options.now;
  const first = { type: 'run.started', machine: 'workflow' as const, workerId: null, payload: started };
  const start = startRunState(first, at, options.registry);
  let state = start.state;
  const events: NewEvent[] = [{ ...first, stateAfter: start.stateAfter, createdAt: at }];
  const kept = finishedWork(prefix);
  for (const event of kept) events.push(copyInto(state, event, at));
  const migration = migrationEvent(state.machines);
  const restarted = state.workflow.status === 'active' ? state.workflow.context.tasks.entries().filter((t) => t.status === 'dispatched' && !(t.id in state.workers)).map((t) => t.id) : [];
  if (migration !== null || restarted.length > 0) {
    // Migrated first, so the workers started afresh are created by the current definitions.
    const spawns = restarted.map((id) => spawnEvent(id, state, options.random));
    const batch = buildBatch(state, migration === null ? spawns : [migration, ...spawns], at, options.random);
    events.push(...batch.events);
    state = adoptBatch(batch);
  }
  return { events, state, copied: kept.length, restarted };
}

/** Writes a fork of `sourceId` at `position` as a new run (not yet carried on: resume it). */
export async function forkRun(store: EventStore, sourceId: string, position: bigint, options: ForkOptions): Promise<ForkedRun> {
  const source = await store.readStream(sourceId);
  if (source.length === 0) throw new RunNotFoundError(sourceId);
  const prefix = eventsAt(source, sourceId, position);
  // The source's history up to there must fold as recorded (replay's check), or the fork would build on a log the machines refuse.
  replayTo(prefix, position, options.registry);
  for (let tries = 0; ; tries++) {
    const runId = options.newRunId();
    const started = forkStarted(prefix[0] as StoredEvent, runId, position, options.overrides);
    const { events, state, copied, restarted } = forkLog(prefix, started, options);
    const status = deriveRunStatus(state);
    try {
      await store.startRun({ runId, objective: started.objective, cwd: started.cwd, machineVersion: started.machineVersion, status }, events);
    } catch (error) {
      if (error instanceof ConcurrencyError && tries < 3) continue;
      throw error;
    }
    return { runId, forkedFrom: { runId: sourceId, position: position.toString() }, copied, restarted, status };
  }
}
