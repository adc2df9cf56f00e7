/**
 * Replay: a run's log folded one event at a time through the real machines — `foldFirst`/`foldNext`,
 * the fold the live engine and `rebuildRun` use — yielding after each event every machine's state and
 * what that event changed. A log the machines would not have written is refused, never smoothed over:
 * an event they do not accept (LogMismatchError), a state after an event other than the one recorded
 * (LogMismatchError), or a run recorded with other machine definitions (MachineVersionError).
 */
import { isDeepStrictEqual } from 'node:util';
import type { MachineRegistry } from '../../machines/versions.js';
import type { MachineKind, StoredEvent } from '../store/event-store.js';
import { foldFirst, foldNext, type EventOrigin } from '../fold/rebuild-run.js';
import { LogMismatchError, type Applied, type PendingTimer, type RunState } from '../fold/run-state.js';
import { stateText } from '../fold/state-value.js';

/** A machine whose state changed; `from` is null when the event created it. */
export interface StateChange {
  machine: MachineKind;
  workerId: string | null;
  from: string | null;
  to: string;
}

/** A machine whose context changed without (or besides) a change of state, by field. */
export interface ContextChange {
  machine: MachineKind;
  workerId: string | null;
  fields: string[];
}

export interface ReplayStep {
  event: StoredEvent;
  /**
   * The whole folded state after the event — the value the live engine had. Replay folds in place
   * (copying every worker per event would make long runs quadratic), so it is valid until the next
   * step is taken: read or persist it before asking for the next one.
   */
  state: RunState;
  workflow: string;
  /** Machines whose state the event changed (or created). */
  states: StateChange[];
  /** Context fields the event changed, per machine. */
  context: ContextChange[];
  timers: { armed: PendingTimer[]; cleared: PendingTimer[] };
}

interface MachineSnapshot {
  value: unknown;
  context: object;
}

function changedFields(before: object, after: object): string[] {
  // assign() copies the context and keeps untouched fields by reference, so identity says what moved.
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  // Fields of `before` in their order, then any only `after` has (contexts rarely gain fields): the
  // union without building it, since every step of a replay asks.
  const fields = Object.keys(a).filter((key) => a[key] !== b[key]);
  for (const key of Object.keys(b)) if (!(key in a) && a[key] !== b[key]) fields.push(key);
  return fields;
}

function diffMachine(machine: MachineKind, workerId: string | null, before: MachineSnapshot | undefined, after: MachineSnapshot | undefined, into: Pick<ReplayStep, 'states' | 'context'>): void {
  if (after === undefined || before === after) return;
  const from = before === undefined ? null : stateText(before.value);
  const to = stateText(after.value);
  if (from !== to) into.states.push({ machine, workerId, from, to });
  if (before === undefined) return;
  const fields = changedFields(before.context, after.context);
  if (fields.length > 0) into.context.push({ machine, workerId, fields });
}

function diffTimers(before: Record<string, PendingTimer>, after: Record<string, PendingTimer>): ReplayStep['timers'] {
  if (before === after) return { armed: [], cleared: [] };
  return {
    armed: Object.entries(after).filter(([key, timer]) => before[key] !== timer).map(([, timer]) => timer),
    cleared: Object.entries(before).filter(([key, timer]) => after[key] !== timer).map(([, timer]) => timer),
  };
}

function checkRecordedState(event: StoredEvent, applied: Applied): void {
  if (event.stateAfter === applied.stateAfter || isDeepStrictEqual(event.stateAfter ?? null, applied.stateAfter ?? null)) return;
  throw new LogMismatchError(
    `event ${String(event.position)} (${event.type}, version ${String(event.version)}) recorded the state ${JSON.stringify(event.stateAfter)} but the machines reach ${JSON.stringify(applied.stateAfter)}`,
  );
}

/** Every worker's state, by worker id. */
export function workerStates(state: RunState): Record<string, string> {
  return Object.fromEntries(Object.entries(state.workers).map(([id, worker]) => [id, stateText(worker.value)]));
}

/**
 * The run's events in version order, one step per event; throws on the first event that does not fit.
 * Each event is folded with the definitions the run had then: those it recorded, then those a
 * `machines.migrated` event moved it to. `registry` defaults to the versions this build knows;
 * `origin` says whether the events come from the store or from outside (EventOrigin).
 */
export function* replaySteps(events: Iterable<StoredEvent>, registry?: MachineRegistry, origin: EventOrigin = 'store'): Generator<ReplayStep, void, undefined> {
  let state: RunState | null = null;
  for (const event of events) {
    // An event reaches one machine (the workflow, or the worker it names): those are all that can change.
    const workflowBefore = state?.workflow;
    const workerBefore = event.workerId === null ? undefined : state?.workers[event.workerId];
    const timersBefore = state?.timers ?? {};
    const applied: Applied = state === null ? foldFirst(event, registry, origin) : foldNext(state, event, origin);
    checkRecordedState(event, applied);
    const next: RunState = applied.state;
    const step: ReplayStep = {
      event,
      state: next,
      workflow: stateText(next.workflow.value),
      states: [],
      context: [],
      timers: diffTimers(timersBefore, next.timers),
    };
    diffMachine('workflow', null, workflowBefore, next.workflow, step);
    if (event.workerId !== null) diffMachine('worker', event.workerId, workerBefore, next.workers[event.workerId], step);
    yield step;
    state = next;
  }
}

/** The last step at or before a global position; undefined when the run has no event that early. */
export function replayTo(events: Iterable<StoredEvent>, position: bigint, registry?: MachineRegistry): ReplayStep | undefined {
  let last: ReplayStep | undefined;
  // Lazy: events after `position` are never folded, so a log broken later does not hide the past.
  for (const step of replaySteps(upTo(events, position), registry)) last = step;
  return last;
}

function* upTo(events: Iterable<StoredEvent>, position: bigint): Generator<StoredEvent, void, undefined> {
  for (const event of events) {
    if (event.position > position) return;
    yield event;
  }
}
