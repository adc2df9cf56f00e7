/**
 * The fold: a run's state is its events applied in order to the real machines with xstate's pure
 * transitions (see pure-transition.ts). The live engine and `rebuildRun` both go through `applyEvent`,
 * so a rebuilt run is the live run, timers included (they are derived from the actions in the log).
 */
import type { PlannedTask } from '../../machines/events.js';
import { TaskTable, type TaskEntry } from '../../machines/task-graph.js';
import { workerMachine } from '../../machines/worker.js';
import { workflowMachine } from '../../machines/workflow.js';
import type { SnapshotFrom } from 'xstate';
import type { MachineKind } from '../store/event-store.js';
import { initialStep, step } from './pure-transition.js';
import { isRecordEvent, type RunEvent, type RunStarted, runStartedSchema, type WorkerInput } from './run-events.js';

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
  /**
   * Derived, never persisted: workers not in a final state, and how many of those are held for a
   * person (at a trust gate, or escalated). The run's status needs them after every commit.
   */
  activeWorkers: number;
  heldWorkers: number;
}

/** An effect a machine asked for, by name; the runtime performs it. */
export interface MachineAction {
  machine: MachineKind;
  workerId: string | null;
  type: string;
  params: Record<string, unknown>;
}

export interface Applied {
  state: RunState;
  actions: MachineAction[];
  /** The state value of the machine the event concerned. */
  stateAfter: unknown;
}

export class LogMismatchError extends Error {
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
      actions.push({ machine, workerId, type: action.type, params });
    }
  }
  return { timers: next, actions };
}

export function startRunState(event: RunEvent, at: Date): Applied {
  const run = runStartedSchema.parse(event.payload);
  const [workflow, raw] = initialStep(workflowMachine, { runId: run.runId, concurrency: run.concurrency });
  const absorbed = absorbActions({}, raw as XstateAction[], 'workflow', null, at.getTime());
  const state: RunState = {
    run,
    version: 1,
    packets: {},
    workflow,
    workers: {},
    timers: absorbed.timers,
    artifacts: {},
    serviceWorkers: {},
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

function isHeld(worker: WorkerSnapshot): boolean {
  return worker.value === 'awaitingTrust' || worker.value === 'escalated';
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
    const [snapshot, raw] = initialStep(workerMachine, input);
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
    return { state: changed(state, patch), actions: [], stateAfter: machineState };
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
    const [workflow, raw] = step(workflowMachine, state.workflow, machineEvent as Parameters<typeof step<typeof workflowMachine>>[2]);
    if (workflow === state.workflow) return null;
    const absorbed = absorbActions(timers, raw as XstateAction[], 'workflow', null, atMs);
    return { state: changed(state, { version, packets, artifacts, workflow, timers: absorbed.timers }), actions: absorbed.actions, stateAfter: workflow.value };
  }

  const workerId = event.workerId;
  const current = workerId === null ? undefined : state.workers[workerId];
  if (workerId === null || current === undefined) return null;
  const [worker, raw] = step(workerMachine, current, machineEvent as Parameters<typeof step<typeof workerMachine>>[2]);
  if (worker === current) return null;
  const absorbed = absorbActions(timers, raw as XstateAction[], 'worker', workerId, atMs);
  return {
    state: changed(state, { version, timers: absorbed.timers }, [workerId, worker], journal),
    actions: absorbed.actions,
    stateAfter: worker.value,
  };
}

export interface PersistedRunState {
  run: RunStarted;
  artifacts: Record<string, unknown>;
  serviceWorkers: Record<string, string | number>;
  version: number;
  packets: Record<string, PlannedTask>;
  workflow: unknown;
  workers: Record<string, unknown>;
  timers: Record<string, PendingTimer>;
}

interface PersistedWorkflow {
  context: { tasks: TaskEntry[] } & Record<string, unknown>;
}

/** Plain JSON of a run's state: for snapshots, for comparing a rebuilt run with the live one, for output. */
export function persistRunState(state: RunState): PersistedRunState {
  const workflow = workflowMachine.getPersistedSnapshot(state.workflow) as unknown as PersistedWorkflow;
  return {
    run: state.run,
    artifacts: state.artifacts,
    serviceWorkers: state.serviceWorkers,
    version: state.version,
    packets: state.packets,
    // The task table persists as its plain list of entries (its JSON), whatever it is in memory.
    workflow: { ...workflow, context: { ...workflow.context, tasks: state.workflow.context.tasks.entries() } },
    workers: Object.fromEntries(Object.entries(state.workers).map(([id, s]) => [id, workerMachine.getPersistedSnapshot(s)])),
    timers: state.timers,
  };
}

/** A run's state again from its persisted JSON; the task table's indexes and the worker counts are derived. */
export function restoreRunState(persisted: PersistedRunState): RunState {
  const saved = persisted.workflow as PersistedWorkflow;
  // A raw JSON snapshot throws inside `transition`: xstate must resolve it first (FACTS.md).
  const workflow = workflowMachine.resolveState({
    ...saved,
    context: { ...saved.context, tasks: TaskTable.fromEntries(saved.context.tasks) },
  } as unknown as Parameters<typeof workflowMachine.resolveState>[0]);
  const state: RunState = {
    run: persisted.run,
    version: persisted.version,
    packets: persisted.packets,
    workflow,
    workers: {},
    timers: persisted.timers,
    artifacts: persisted.artifacts,
    serviceWorkers: persisted.serviceWorkers,
    activeWorkers: 0,
    heldWorkers: 0,
  };
  for (const [id, json] of Object.entries(persisted.workers)) {
    const worker = workerMachine.resolveState(json as Parameters<typeof workerMachine.resolveState>[0]);
    countWorker(state, undefined, worker);
    state.workers[id] = worker;
  }
  return state;
}
