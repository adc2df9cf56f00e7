/** Rebuilds a run from its log alone, through the same fold the live engine uses. */
import type { MachineRegistry } from '../../machines/versions.js';
import type { EventStore, StoredEvent } from '../store/event-store.js';
import { parseRunEvent, storedRunEvent, type RunEvent } from './run-events.js';
import { MachineVersionError } from './machine-set.js';
import { loadRunSnapshot } from './run-snapshot.js';
import { applyEvent, LogMismatchError, startRunState, type Applied, type RunState } from './run-state.js';
import { OverseerError } from '../errors.js';

export class RunNotFoundError extends OverseerError {
  readonly code = 'NOT_FOUND' as const;
  constructor(readonly runId: string) {
    super(`no run ${runId}`);
  }
}

/**
 * Where the events being folded come from: 'store' — appended by Overseer, which parsed every payload
 * before appending it (see storedRunEvent); 'outside' — a file being imported, whose every payload is
 * parsed like any input.
 */
export type EventOrigin = 'store' | 'outside';

function toRunEvent(event: StoredEvent, origin: EventOrigin): RunEvent {
  const input = { type: event.type, payload: event.payload as Record<string, unknown>, machine: event.machine, workerId: event.workerId };
  return origin === 'store' ? storedRunEvent(input) : parseRunEvent(input);
}

/**
 * The state after a run's first event, under the definitions it recorded; refuses a log that does not
 * start a run (LogMismatchError), or one recorded under machines the registry lacks (MachineVersionError).
 */
export function foldFirst(first: StoredEvent | undefined, registry?: MachineRegistry, origin: EventOrigin = 'store'): Applied {
  if (first === undefined || first.type !== 'run.started') throw new LogMismatchError('the log does not start with run.started');
  try {
    return startRunState(toRunEvent(first, origin), first.createdAt, registry);
  } catch (error) {
    if (error instanceof MachineVersionError) throw new MachineVersionError(`run ${first.streamId} was recorded with ${error.message}`);
    throw error;
  }
}

/**
 * One more stored event folded into `state`, which is changed in place (the caller owns it). Every
 * stored event must change the machines it reaches: one that does not means the log and the
 * machine definitions disagree, and we refuse rather than guess.
 */
export function foldNext(state: RunState, event: StoredEvent, origin: EventOrigin = 'store'): Applied {
  const applied = applyEvent(state, toRunEvent(event, origin), event.createdAt);
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
export function foldEvents(events: readonly StoredEvent[], registry?: MachineRegistry): RunState {
  const [first, ...rest] = events;
  let state = foldFirst(first, registry).state;
  for (const event of rest) state = foldNext(state, event).state;
  return state;
}

/**
 * The run's state now: its latest snapshot (if any fits these machines and the log reaches it) plus
 * the events after it, else the fold of the whole log.
 */
export async function rebuildRun(store: EventStore, runId: string, registry?: MachineRegistry): Promise<RunState> {
  const cached = await loadRunSnapshot(store, runId, registry);
  if (cached !== undefined) {
    let state = cached.snapshot;
    for (const event of cached.tail) state = foldNext(state, event).state;
    return state;
  }
  const state = await foldStream(store, runId, registry);
  if (state === undefined) throw new RunNotFoundError(runId);
  return state;
}

/** Events per read of a whole-log fold: small enough that reading the next page overlaps folding this one. */
const FOLD_PAGE = 2000;

/**
 * Folds a run's whole log as it is read, a page of versions at a time: the next page's query goes out
 * before this page is folded, so the server finds and sends it meanwhile, and each page's rows are
 * garbage once folded instead of all of them living (and being copied by the collector) until the end.
 * Undefined when the run has no events.
 */
export async function foldStream(store: EventStore, runId: string, registry?: MachineRegistry): Promise<RunState | undefined> {
  const page = (from: number) => store.readStream(runId, { fromVersion: from, toVersion: from + FOLD_PAGE - 1 });
  let events = await page(1);
  if (events.length === 0) return undefined;
  let state: RunState | undefined;
  for (let from = 1; events.length > 0; from += FOLD_PAGE) {
    const next = events.length < FOLD_PAGE ? Promise.resolve([]) : page(from + FOLD_PAGE);
    // Should this page not fold, the page after it is not awaited: its failure must not go unhandled.
    next.catch(() => undefined);
    // One turn of the event loop puts the next query on the wire before the fold holds the thread.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (const event of events) state = state === undefined ? foldFirst(event, registry).state : foldNext(state, event).state;
    events = await next;
  }
  return state;
}
