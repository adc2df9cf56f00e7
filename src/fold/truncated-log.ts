/**
 * A log cut short at its end keeps an intact hash chain, so only what the run's caches remember can
 * show it: its snapshot (a fold at a version) and its runs row (the status as of the last append,
 * written in the same statement as the events). Either one ahead of the log means events were
 * removed from its end. The log stays the truth — status and rebuild fold it — but `verify` names
 * the loss, and `resume` and every write from outside the engine (approve, cancel, the viewer) refuse
 * to carry on from it: tasks past the cut ran, and would run again; and events appended past the old
 * snapshot's version would make that snapshot look valid again, burying the loss.
 *
 * The caches must be read BEFORE the log: the log only grows, so a claim read first is never ahead of
 * a log read after it unless events were removed, even while another process appends.
 */
import { isFinalWorkflowState } from '../../machines/state-sets.js';
import type { EventStore, RunRow, RunSnapshot, RunStatus, StoredEvent } from '../store/event-store.js';
import { foldEvents, MachineVersionError } from './rebuild-run.js';
import { InvalidEventError } from './run-events.js';
import { LogMismatchError, type RunState } from './run-state.js';
import { OverseerError } from '../errors.js';

/** What a run's caches say about how far its log reached. */
export interface LogClaims {
  snapshot: RunSnapshot | undefined;
  run: RunRow | undefined;
}

/** Where the log really ends; `ended` is null when the log does not fold (verify reports that apart). */
export interface LogEnd {
  version: number;
  ended: boolean | null;
}

export interface Truncation {
  logVersion: number;
  /** The snapshot's version when it is past the log's end, else null. */
  snapshotVersion: number | null;
  /** The runs row's status when it says the run ended and the log has not, else null. */
  runStatus: RunStatus | null;
}

export class TruncatedLogError extends OverseerError {
  readonly code = 'TRUNCATED' as const;
  constructor(
    readonly runId: string,
    readonly truncation: Truncation,
  ) {
    super(`run ${runId} lost events from its end: ${truncationText(truncation)}; see overseer verify ${runId}`);
  }
}

export async function readLogClaims(store: EventStore, runId: string): Promise<LogClaims> {
  const [snapshot, run] = await Promise.all([store.loadSnapshot(runId), store.getRun(runId)]);
  return { snapshot, run };
}

export function logEndOf(state: RunState): LogEnd {
  return { version: state.version, ended: state.workflow.status === 'done' };
}

/** Where a stream read in version order ends; a log the machines refuse cannot say whether the run ended. */
export function logEndOfEvents(events: readonly StoredEvent[]): LogEnd {
  const version = events.at(-1)?.version ?? 0;
  try {
    return { version, ended: logEndOf(foldEvents(events)).ended };
  } catch (error) {
    if (error instanceof LogMismatchError || error instanceof MachineVersionError || error instanceof InvalidEventError) return { version, ended: null };
    throw error;
  }
}

/**
 * Only an ended status is a claim about the log's end: a run that ended never changes status again,
 * whereas a `waiting` row may already be `running` in a log read a moment later.
 */
export function findTruncation(end: LogEnd, claims: LogClaims): Truncation | null {
  const { snapshot, run } = claims;
  const snapshotVersion = snapshot !== undefined && snapshot.version > end.version ? snapshot.version : null;
  const runStatus = run !== undefined && end.ended === false && isFinalWorkflowState(run.status) ? run.status : null;
  return snapshotVersion === null && runStatus === null ? null : { logVersion: end.version, snapshotVersion, runStatus };
}

export function truncationText(t: Truncation): string {
  const claims = [
    ...(t.snapshotVersion === null ? [] : [`the run's snapshot says it reached version ${String(t.snapshotVersion)}`]),
    ...(t.runStatus === null ? [] : [`the runs row says the run is ${t.runStatus}`]),
  ];
  return `the log ends at version ${String(t.logVersion)} but ${claims.join(' and ')}`;
}

/** Throws TruncatedLogError when the claims (read before the state was rebuilt) are ahead of it. */
export function refuseTruncated(state: RunState, claims: LogClaims): void {
  const truncation = findTruncation(logEndOf(state), claims);
  if (truncation !== null) throw new TruncatedLogError(state.run.runId, truncation);
}
