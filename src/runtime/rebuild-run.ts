/** Rebuilds a run from its log alone, through the same fold the live engine uses. */
import { MACHINE_VERSION } from '../../machines/index.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { parseRunEvent, type RunEvent } from './run-events.js';
import { applyEvent, LogMismatchError, startRunState, type RunState } from './run-state.js';

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

/**
 * Folds stored events into a run state. Every stored event must change the machines it reaches: one
 * that does not means the log and the machine definitions disagree, and we refuse rather than guess.
 */
export function foldEvents(events: readonly StoredEvent[]): RunState {
  const [first, ...rest] = events;
  if (first === undefined || first.type !== 'run.started') throw new LogMismatchError('the log does not start with run.started');
  let state = startRunState(toRunEvent(first), first.createdAt).state;
  if (state.run.machineVersion !== MACHINE_VERSION) {
    throw new MachineVersionError(
      `run ${state.run.runId} was recorded with machines ${state.run.machineVersion}; this Overseer has ${MACHINE_VERSION} and no migration between them`,
    );
  }
  for (const event of rest) {
    const applied = applyEvent(state, toRunEvent(event), event.createdAt);
    if (applied === null) {
      throw new LogMismatchError(`event ${String(event.position)} (${event.type}, version ${String(event.version)}) does not fit the machines in the state they were in`);
    }
    state = applied.state;
  }
  return state;
}

export async function rebuildRun(store: EventStore, runId: string): Promise<RunState> {
  const events = await store.readStream(runId);
  if (events.length === 0) throw new RunNotFoundError(runId);
  return foldEvents(events);
}
