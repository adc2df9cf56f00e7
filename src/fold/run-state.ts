/**
 * The fold: a run's state is its events applied in order to the real machines with xstate's pure
 * transitions (see pure-transition.ts). The live engine and `rebuildRun` both go through `applyEvent`,
 * so a rebuilt run is the live run, timers included (they are derived from the actions in the log).
 */
import type { PlannedTask } from '../../machines/events.js';
import { isWaitingWorkerState } from '../../machines/state-sets.js';
import { TaskTable, type TaskEntry } from '../../machines/task-graph.js';
import type { workerMachine } from '../../machines/worker.js';
import type { workflowMachine } from '../../machines/workflow.js';
import type { MachineRegistry } from '../../machines/versions.js';
import type { SnapshotFrom } from 'xstate';
import type { MachineKind } from '../store/event-store.js';
import { machinesFor, migrateSnapshot, type MachineSet } from './machine-set.js';
import type { MachineAction } from './machine-actions.js';
import { initialStep, step } from './pure-transition.js';
import { isRecordEvent, type RunEvent, type RunStarted, runStartedSchema, type WorkerInput } from './run-events.js';
import { stateText } from './state-value.js';
import { OverseerError } from '../errors.js';
import { foldLaneEvent, isLaneEvent, type LaneRecord } from './lane-record.js';

export type WorkflowSnapshot = SnapshotFrom<typeof workflowMachine>;
export type WorkerSnapshot = SnapshotFrom<typeof workerMachine>;

export interface PendingTimer {
  machine: MachineKind;
  workerId: string | null;
  timerId: string;
  event: { type: string };
  /** Epoch ms: the time of the event that armed it plus the delay. */
  dueAt: number;
}

export interface RunState {
  run: RunStarted;
  /** The definitions the run is folded with: those it recorded, or those a `machines.migrated` moved it to. */
  machines: MachineSet;
  /** Events applied so far: the stream version the next append expects. */
  version: number;
  packets: Record<string, PlannedTask>;
  workflow: WorkflowSnapshot;
  workers: Record<string, WorkerSnapshot>;
  timers: Record<string, PendingTimer>;
  /** What the bootstrap phases produced, handed to every worker. */
  artifacts: Record<string, unknown>;
  /** The worker service's id for each worker it spawned. */
  serviceWorkers: Record<string, string | number>;
  /** Agent lanes: worktree, usage, merge (lane-record.ts). */
  lanes: Record<string, LaneRecord>;
  /**
   * Derived, never persisted: workers not in a final state, and how many of those are held for a
   * person (at a trust gate, or escalated). The run's status needs them after every commit.
   */
  activeWorkers: number;
  heldWorkers: number;
}

export type { MachineAction } from './machine-actions.js';

export interface Applied {
  state: RunState;
  actions: MachineAction[];
  /** The state value of the machine the event concerned. */
  stateAfter: unknown;
}

export class LogMismatchError extends OverseerError {
  readonly code = 'LOG_MISMATCH' as const;
}

interface XstateAction {
  type: string;
  params?: unknown;
}

function timerKey(workerId: string | null, timerId: string): string {
  return `${workerId ?? 'workflow'}:${timerId}`;
}

/** Splits xstate's own actions (delayed raises, cancels) into timer changes; keeps the named effects. */
function absorbActions(
  timers: Record<string, PendingTimer>,
  raw: readonly XstateAction[],
  machine: MachineKind,
  workerId: string | null,
  at: number,
): { timers: Record<string, PendingTimer>; actions: MachineAction[] } {
  let next = timers;
  const actions: MachineAction[] = [];
  for (const action of raw) {
    const params = (action.params ?? {}) as Record<string, unknown>;
    if (action.type === 'xstate.raise') {
      const delay = params['delay'];
      // Raises without a delay were already processed inside the transition; infinite delays never fire.
      if (typeof delay !== 'number' || !Number.isFinite(delay)) continue;
      const timerId = String(params['id']);
      next = { ...next, [timerKey(workerId, timerId)]: { machine, workerId, timerId, event: params['event'] as { type: string }, dueAt: at + delay } };
    } else if (action.type === 'xstate.cancel') {
      const key = timerKey(workerId, String(params['sendId']));
      if (key in next) {
        next = { ...next };
        delete next[key];
      }
    } else if (!action.type.startsWith('xstate.')) {
      // The machines' own definitions name these actions and their params (machine-actions.ts).
      actions.push({ machine, workerId, type: action.type, params } as MachineAction);
    }
  }
  return { timers: next, actions };
}

/** The state after `run.started`, folded with the definitions it recorded (MachineVersionError for unknown ones). */
export function startRunState(event: RunEvent, at: Date, registry?: MachineRegistry): Applied {
  const run = runStartedSchema.parse(event.payload);
  const machines = machinesFor(run.machineVersion, registry);
  const [workflow, raw] = initialStep(machines.workflow, { runId: run.runId, concurrency: run.concurrency });
  const absorbed = absorbActions({}, raw as XstateAction[], 'workflow', null, at.getTime());
  const state: RunState = {
    run,
    machines,
    version: 1,
    packets: {},
    workflow,
    workers: {},
    timers: absorbed.timers,
    artifacts: {},
    serviceWorkers: {},
    lanes: {},
    activeWorkers: 0,
    heldWorkers: 0,
  };
  return { state, actions: absorbed.actions, stateAfter: workflow.value };
}

/**
 * The worker snapshots a batch replaced, with what they were before (undefined: the batch created
 * the worker). See run-batch.ts: a batch changes the shared workers object and puts it back.
 */
export type WorkerJournal = Map<string, WorkerSnapshot | undefined>;

/** The worker waits for a person (a trust gate, a failure escalated to a human): see machines/state-sets.ts. */
function isHeld(worker: WorkerSnapshot): boolean {
  return isWaitingWorkerState(stateText(worker.value));
}

/** Keeps the derived worker counts as one worker changes from `before` to `after`. */
function countWorker(state: RunState, before: WorkerSnapshot | undefined, after: WorkerSnapshot): void {
  if (before !== undefined && before.status === 'active') {
    state.activeWorkers -= 1;
    if (isHeld(before)) state.heldWorkers -= 1;
  }
  if (after.status === 'active') {
    state.activeWorkers += 1;
    if (isHeld(after)) state.heldWorkers += 1;
  }
}

/**
 * Changes the state in place: folds own the state they build, and a batch works on its own shallow
 * copy (whose workers object is shared, so each worker it replaces goes into the journal first).
 * Copying every worker per event, or per batch, made a run quadratic in its workers.
 */
function changed(state: RunState, patch: Partial<RunState>, worker?: [string, WorkerSnapshot], journal?: WorkerJournal): RunState {
  Object.assign(state, patch);
  if (worker !== undefined) {
    const [workerId, snapshot] = worker;
    const before = state.workers[workerId];
    if (journal !== undefined && !journal.has(workerId)) journal.set(workerId, before);
    countWorker(state, before, snapshot);
    state.workers[workerId] = snapshot;
  }
  return state;
}

/**
 * Applies one event, parsed by parseRunEvent; returns null when the event changes nothing (a late timer, an exit after a
 * timeout) — the live engine does not record such events, so in a log they mean a mismatch.
 * The given state is changed and returned: only for a state the caller owns (see `changed`).
 */
export function applyEvent(state: RunState, event: RunEvent, at: Date, journal?: WorkerJournal): Applied | null {
  const atMs = at.getTime();
  const version = state.version + 1;
  if (event.type === 'worker.spawned') {
    const workerId = event.workerId;
    if (workerId === null || workerId in state.workers) return null;
    // Parsed with the event (parseRunEvent), which checks `input` against workerInputSchema.
    const input = event.payload['input'] as WorkerInput;
    const [snapshot, raw] = initialStep(state.machines.worker, input);
    const absorbed = absorbActions(state.timers, raw as XstateAction[], 'worker', workerId, atMs);
    return { state: changed(state, { version, timers: absorbed.timers }, [workerId, snapshot], journal), actions: absorbed.actions, stateAfter: snapshot.value };
  }

  if (isRecordEvent(event.type)) {
    if (event.workerId !== null && !(event.workerId in state.workers)) return null;
    const machineState = event.workerId === null ? state.workflow.value : state.workers[event.workerId]?.value;
    const patch: Partial<RunState> = { version };
    if (event.type === 'service.worker_spawned' && event.workerId !== null) {
      patch.serviceWorkers = { ...state.serviceWorkers, [event.workerId]: event.payload['serviceWorkerId'] as string | number };
    }
    if (event.workerId !== null && isLaneEvent(event.type)) patch.lanes = withLane(state, event.workerId, event);
    return { state: changed(state, patch), actions: [], stateAfter: machineState };
  }

  if (event.type === 'machines.migrated') {
    const migrated = migrateRun(state, String(event.payload['from']), String(event.payload['to']));
    if (migrated === null) return null;
    changed(state, { machines: migrated.machines, workflow: migrated.workflow, version });
    // One worker at a time, like any other change, so the journal and the worker counts follow.
    for (const [workerId, worker] of Object.entries(migrated.workers)) changed(state, {}, [workerId, worker], journal);
    return { state, actions: [], stateAfter: migrated.workflow.value };
  }

  let timers = state.timers;
  let machineEvent: { type: string } = { type: event.type, ...event.payload };
  if (event.type === 'timer.fired') {
    const key = timerKey(event.workerId, String(event.payload['timerId']));
    if (!(key in timers)) return null;
    timers = { ...timers };
    delete timers[key];
    machineEvent = event.payload['event'] as { type: string };
  }

  let packets = state.packets;
  if (event.type === 'plan.ready') {
    packets = Object.fromEntries((event.payload['packets'] as PlannedTask[]).map((p) => [p.id, p]));
  }
  const artifacts = event.type === 'bootstrap.completed' ? (event.payload['artifacts'] as Record<string, unknown>) : state.artifacts;

  if (event.machine === 'workflow') {
    const [workflow, raw] = step(state.machines.workflow, state.workflow, machineEvent as Parameters<typeof step<typeof workflowMachine>>[2]);
    if (workflow === state.workflow) return null;
    const absorbed = absorbActions(timers, raw as XstateAction[], 'workflow', null, atMs);
    return { state: changed(state, { version, packets, artifacts, workflow, timers: absorbed.timers }), actions: absorbed.actions, stateAfter: workflow.value };
  }

  const workerId = event.workerId;
  const current = workerId === null ? undefined : state.workers[workerId];
  if (workerId === null || current === undefined) return null;
  const [worker, raw] = step(state.machines.worker, current, machineEvent as Parameters<typeof step<typeof workerMachine>>[2]);
  if (worker === current) return null;
  const absorbed = absorbActions(timers, raw as XstateAction[], 'worker', workerId, atMs);
  const lanes = isLaneEvent(event.type) ? withLane(state, workerId, event) : state.lanes;
  return {
    state: changed(state, { version, timers: absorbed.timers, lanes }, [workerId, worker], journal),
    actions: absorbed.actions,
    stateAfter: worker.value,
  };
}

function withLane(state: RunState, workerId: string, event: RunEvent): Record<string, LaneRecord> {
  return { ...state.lanes, [workerId]: foldLaneEvent(state.lanes[workerId], event) };
}

/**
 * The workflow and every worker carried from the run's versions to `to`, each persisted, migrated
 * step by step and restored under the new definitions; timers stay as they were (a step that renames
 * a state with an `after` timer must keep its delay's id: docs/versions.md). Null when `from` is not
 * the run's version or the registry cannot make the move.
 */
function migrateRun(state: RunState, from: string, to: string): Pick<RunState, 'machines' | 'workflow' | 'workers'> | null {
  if (from !== state.machines.version) return null;
  const source = state.machines;
  const target = machinesFor(to, source.registry);
  const workflow = migrateSnapshot(source.registry, 'workflow', source.versions.workflow, target.versions.workflow, persistWorkflow(source, state.workflow));
  if (workflow === undefined) return null;
  const workers: Record<string, WorkerSnapshot> = {};
  for (const [id, snapshot] of Object.entries(state.workers)) {
    const worker = migrateSnapshot(source.registry, 'worker', source.versions.worker, target.versions.worker, source.worker.getPersistedSnapshot(snapshot));
    if (worker === undefined) return null;
    workers[id] = target.worker.resolveState(worker as Parameters<typeof target.worker.resolveState>[0]);
  }
  return { machines: target, workflow: resolveWorkflow(target, workflow as PersistedWorkflow), workers };
}

export interface PersistedRunState {
  run: RunStarted;
  artifacts: Record<string, unknown>;
  serviceWorkers: Record<string, string | number>;
  /** Absent in snapshots taken before agent lanes. */
  lanes?: Record<string, LaneRecord>;
  version: number;
  packets: Record<string, PlannedTask>;
  workflow: unknown;
  workers: Record<string, unknown>;
  timers: Record<string, PendingTimer>;
}

interface PersistedWorkflow {
  context: { tasks: TaskEntry[] } & Record<string, unknown>;
}

/** The workflow's plain JSON: its task table as the list of entries (the table's JSON), whatever it is in memory. */
function persistWorkflow(machines: MachineSet, workflow: WorkflowSnapshot): PersistedWorkflow {
  const persisted = machines.workflow.getPersistedSnapshot(workflow) as unknown as PersistedWorkflow;
  return { ...persisted, context: { ...persisted.context, tasks: workflow.context.tasks.entries() } };
}

/** A workflow snapshot from its JSON under the given definitions; the task table derives its indexes again. */
function resolveWorkflow(machines: MachineSet, persisted: PersistedWorkflow): WorkflowSnapshot {
  // A raw JSON snapshot throws inside `transition`: xstate must resolve it first (FACTS.md).
  return machines.workflow.resolveState({
    ...persisted,
    context: { ...persisted.context, tasks: TaskTable.fromEntries(persisted.context.tasks) },
  } as unknown as Parameters<typeof machines.workflow.resolveState>[0]);
}

/** Plain JSON of a run's state: for snapshots, for comparing a rebuilt run with the live one, for output. */
export function persistRunState(state: RunState): PersistedRunState {
  return {
    run: state.run,
    artifacts: state.artifacts,
    serviceWorkers: state.serviceWorkers,
    lanes: state.lanes,
    version: state.version,
    packets: state.packets,
    workflow: persistWorkflow(state.machines, state.workflow),
    workers: Object.fromEntries(Object.entries(state.workers).map(([id, s]) => [id, state.machines.worker.getPersistedSnapshot(s)])),
    timers: state.timers,
  };
}

/**
 * A run's state again from its persisted JSON, under the definitions it was persisted with; the task
 * table's indexes and the worker counts are derived.
 */
export function restoreRunState(persisted: PersistedRunState, machines: MachineSet): RunState {
  const state: RunState = {
    run: persisted.run,
    machines,
    version: persisted.version,
    packets: persisted.packets,
    workflow: resolveWorkflow(machines, persisted.workflow as PersistedWorkflow),
    workers: {},
    timers: persisted.timers,
    artifacts: persisted.artifacts,
    serviceWorkers: persisted.serviceWorkers,
    lanes: persisted.lanes ?? {},
    activeWorkers: 0,
    heldWorkers: 0,
  };
  for (const [id, json] of Object.entries(persisted.workers)) {
    const worker = machines.worker.resolveState(json as Parameters<typeof machines.worker.resolveState>[0]);
    countWorker(state, undefined, worker);
    state.workers[id] = worker;
  }
  return state;
}
