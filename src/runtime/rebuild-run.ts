/** Rebuilds a run from its log alone, through the same fold the live engine uses. */
import { MACHINE_VERSION } from '../../machines/index.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { parseRunEvent, type RunEvent } from './run-events.js';
import { loadRunSnapshot } from './run-snapshot.js';
import { applyEvent, LogMismatchError, startRunState, type Applied, type RunState } from './run-state.js';

export class RunNotFoundError extends Error {
  readonly code = 'RUN_NOT_FOUND' as const;
  constructor(readonly runId: string) {
    super(`no run ${runId}`);
  }
}

export class MachineVersionError extends Error {
  readonly code = 'MACHINE_VERSION' as const;
}

function toRunEvent(event: StoredEvent): RunEvent {
  return parseRunEvent({ type: event.type, payload: event.payload as Record<string, unknown>, machine: event.machine, workerId: event.workerId });
}

/** The state after a run's first event; refuses a log that does not start a run, or one of other machines. */
export function foldFirst(first: StoredEvent | undefined): Applied {
  if (first === undefined || first.type !== 'run.started') throw new LogMismatchError('the log does not start with run.started');
  const applied = startRunState(toRunEvent(first), first.createdAt);
  const recorded = applied.state.run.machineVersion;
  if (recorded !== MACHINE_VERSION) {
    throw new MachineVersionError(
      `run ${applied.state.run.runId} was recorded with machines ${recorded}; this Overseer has ${MACHINE_VERSION} and no migration between them`,
    );
  }
  return applied;
}

/**
 * One more stored event folded into `state`, which is changed in place (the caller owns it). Every
 * stored event must change the machines it reaches: one that does not means the log and the
 * machine definitions disagree, and we refuse rather than guess.
 */
export function foldNext(state: RunState, event: StoredEvent): Applied {
  const applied = applyEvent(state, toRunEvent(event), event.createdAt);
  if (applied === null) {
    throw new LogMismatchError(
      `event ${String(event.position)} (${event.type}, version ${String(event.version)}) does not fit the machines: ${machineWhere(state, event.workerId)}`,
    );
  }
  return applied;
}

function machineWhere(state: RunState, workerId: string | null): string {
  if (workerId === null) return `the workflow was ${JSON.stringify(state.workflow.value)}`;
  const worker = state.workers[workerId];
  return worker === undefined ? `worker ${workerId} did not exist yet` : `worker ${workerId} was ${JSON.stringify(worker.value)}`;
}

/** Folds stored events into a run state, through the same fold the live engine uses. */
export function foldEvents(events: readonly StoredEvent[]): RunState {
  const [first, ...rest] = events;
  let state = foldFirst(first).state;
  for (const event of rest) state = foldNext(state, event).state;
  return state;
}

/** The run's state now: its latest snapshot (if any fits these machines) plus the events after it. */
export async function rebuildRun(store: EventStore, runId: string): Promise<RunState> {
  const snapshot = await loadRunSnapshot(store, runId);
  if (snapshot !== undefined) {
    let state = snapshot;
    for (const event of await store.readStream(runId, { fromVersion: snapshot.version + 1 })) state = foldNext(state, event).state;
    return state;
  }
  const events = await store.readStream(runId);
  if (events.length === 0) throw new RunNotFoundError(runId);
  return foldEvents(events);
}
