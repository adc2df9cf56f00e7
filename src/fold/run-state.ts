/**
 * The fold: a run's state is its events applied in order to the real machines with xstate's pure
 * `initialTransition`/`transition`. The live engine and `rebuildRun` both go through `applyEvent`, so
 * a rebuilt run is the live run, timers included (they are derived from the actions in the log).
 */
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import type { PlannedTask } from '../../machines/events.js';
import type { workerMachine } from '../../machines/worker.js';
import type { workflowMachine } from '../../machines/workflow.js';
import type { MachineRegistry } from '../../machines/versions.js';
import type { MachineKind } from '../store/event-store.js';
import { machinesFor, migrateSnapshot, type MachineSet } from './machine-set.js';
import type { MachineAction } from './machine-actions.js';
import { isRecordEvent, workerInputSchema, type RunEvent, type RunStarted, runStartedSchema } from './run-events.js';
import { OverseerError } from '../errors.js';

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
  const [workflow, raw] = initialTransition(machines.workflow, { runId: run.runId, concurrency: run.concurrency });
  const absorbed = absorbActions({}, raw, 'workflow', null, at.getTime());
  const state: RunState = { run, machines, version: 1, packets: {}, workflow, workers: {}, timers: absorbed.timers, artifacts: {}, serviceWorkers: {} };
  return { state, actions: absorbed.actions, stateAfter: workflow.value };
}

/** A copy that `applyEvent(…, { inPlace: true })` may change without touching the original. */
export function cloneRunState(state: RunState): RunState {
  return { ...state, workers: { ...state.workers } };
}

/**
 * The state after a change: a new object, or — in place — the same one changed, for callers that own
 * their state (a fold, a batch on its own copy). Copying every worker per event made folding a run of
 * thousands of workers quadratic.
 */
function changed(state: RunState, inPlace: boolean, patch: Partial<RunState>, worker?: [string, WorkerSnapshot]): RunState {
  const next = inPlace ? Object.assign(state, patch) : { ...state, ...patch, workers: worker === undefined ? state.workers : { ...state.workers } };
  if (worker !== undefined) next.workers[worker[0]] = worker[1];
  return next;
}

/**
 * Applies one event; returns null when the event changes nothing (a late timer, an exit after a
 * timeout) — the live engine does not record such events, so in a log they mean a mismatch.
 * With `inPlace` the given state is changed and returned (only for a state the caller owns).
 */
export function applyEvent(state: RunState, event: RunEvent, at: Date, options: { inPlace?: boolean } = {}): Applied | null {
  const atMs = at.getTime();
  const inPlace = options.inPlace === true;
  const version = state.version + 1;
  if (event.type === 'worker.spawned') {
    const workerId = event.workerId;
    if (workerId === null || workerId in state.workers) return null;
    const input = workerInputSchema.parse(event.payload['input']);
    const [snapshot, raw] = initialTransition(state.machines.worker, input);
    const absorbed = absorbActions(state.timers, raw, 'worker', workerId, atMs);
    return { state: changed(state, inPlace, { version, timers: absorbed.timers }, [workerId, snapshot]), actions: absorbed.actions, stateAfter: snapshot.value };
  }

  if (isRecordEvent(event.type)) {
    if (event.workerId !== null && !(event.workerId in state.workers)) return null;
    const machineState = event.workerId === null ? state.workflow.value : state.workers[event.workerId]?.value;
    const patch: Partial<RunState> = { version };
    if (event.type === 'service.worker_spawned' && event.workerId !== null) {
      patch.serviceWorkers = { ...state.serviceWorkers, [event.workerId]: event.payload['serviceWorkerId'] as string | number };
    }
    return { state: changed(state, inPlace, patch), actions: [], stateAfter: machineState };
  }

  if (event.type === 'machines.migrated') {
    const migrated = migrateRun(state, String(event.payload['from']), String(event.payload['to']));
    return migrated === null ? null : { state: changed(state, inPlace, { ...migrated, version }), actions: [], stateAfter: migrated.workflow.value };
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
    const [workflow, raw] = transition(state.machines.workflow, state.workflow, machineEvent as Parameters<typeof transition<typeof workflowMachine>>[2]);
    if (workflow === state.workflow) return null;
    const absorbed = absorbActions(timers, raw, 'workflow', null, atMs);
    return { state: changed(state, inPlace, { version, packets, artifacts, workflow, timers: absorbed.timers }), actions: absorbed.actions, stateAfter: workflow.value };
  }

  const workerId = event.workerId;
  const current = workerId === null ? undefined : state.workers[workerId];
  if (workerId === null || current === undefined) return null;
  const [worker, raw] = transition(state.machines.worker, current, machineEvent as Parameters<typeof transition<typeof workerMachine>>[2]);
  if (worker === current) return null;
  const absorbed = absorbActions(timers, raw, 'worker', workerId, atMs);
  return {
    state: changed(state, inPlace, { version, timers: absorbed.timers }, [workerId, worker]),
    actions: absorbed.actions,
    stateAfter: worker.value,
  };
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
  const workflow = migrateSnapshot(source.registry, 'workflow', source.versions.workflow, target.versions.workflow, source.workflow.getPersistedSnapshot(state.workflow));
  if (workflow === undefined) return null;
  const workers: Record<string, WorkerSnapshot> = {};
  for (const [id, snapshot] of Object.entries(state.workers)) {
    const worker = migrateSnapshot(source.registry, 'worker', source.versions.worker, target.versions.worker, source.worker.getPersistedSnapshot(snapshot));
    if (worker === undefined) return null;
    workers[id] = target.worker.resolveState(worker as Parameters<typeof target.worker.resolveState>[0]);
  }
  return { machines: target, workflow: target.workflow.resolveState(workflow as Parameters<typeof target.workflow.resolveState>[0]), workers };
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

/** Plain JSON of a run's state: for snapshots, for comparing a rebuilt run with the live one, for output. */
export function persistRunState(state: RunState): PersistedRunState {
  return {
    run: state.run,
    artifacts: state.artifacts,
    serviceWorkers: state.serviceWorkers,
    version: state.version,
    packets: state.packets,
    workflow: state.machines.workflow.getPersistedSnapshot(state.workflow),
    workers: Object.fromEntries(Object.entries(state.workers).map(([id, s]) => [id, state.machines.worker.getPersistedSnapshot(s)])),
    timers: state.timers,
  };
}
