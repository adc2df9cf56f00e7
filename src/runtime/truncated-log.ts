/**
 * A log cut short at its end keeps an intact hash chain, so only what the run's caches remember can
 * show it: its snapshot (a fold at a version) and its runs row (the status as of the last append,
 * written in the same statement as the events). Either one ahead of the log means events were
 * removed from its end. The log stays the truth — status and rebuild fold it — but `verify` names
 * the loss and `resume` refuses to carry on from it: tasks past the cut ran, and would run again.
 */
import type { EventStore, RunRow, RunSnapshot, RunStatus, StoredEvent } from '../store/event-store.js';
import { foldEvents, MachineVersionError } from './rebuild-run.js';
import { InvalidEventError } from './run-events.js';
import { LogMismatchError, type RunState } from './run-state.js';
import { deriveRunStatus } from './run-status.js';

/** Where the log really ends; `status` is null when the log does not fold (verify reports that apart). */
export interface LogEnd {
  version: number;
  status: RunStatus | null;
  /** The workflow reached a final state: nothing after it changes the run's status. */
  ended: boolean;
}

export interface Truncation {
  logVersion: number;
  /** The snapshot's version when it is past the log's end, else null. */
  snapshotVersion: number | null;
  /** The runs row's status when the log does not reach it, else null. */
  runStatus: RunStatus | null;
}

export class TruncatedLogError extends Error {
  readonly code = 'TRUNCATED_LOG' as const;
  constructor(
    readonly runId: string,
    readonly truncation: Truncation,
  ) {
    super(`run ${runId} cannot be resumed: ${truncationText(truncation)}; see overseer verify ${runId}`);
  }
}

export function logEndOf(state: RunState): LogEnd {
  return { version: state.version, status: deriveRunStatus(state), ended: state.workflow.status === 'done' };
}

/** Where a stream read in version order ends; a log the machines refuse has no status to hold a runs row against. */
export function logEndOfEvents(events: readonly StoredEvent[]): LogEnd {
  const version = events.at(-1)?.version ?? 0;
  try {
    return { ...logEndOf(foldEvents(events)), version };
  } catch (error) {
    if (error instanceof LogMismatchError || error instanceof MachineVersionError || error instanceof InvalidEventError) return { version, status: null, ended: false };
    throw error;
  }
}

/**
 * The runs row changes status in the same statement as the events that change it, so a row whose
 * status the log's fold does not have, while the log has not ended, was written by events that are gone.
 */
export function findTruncation(end: LogEnd, snapshot: RunSnapshot | undefined, run: RunRow | undefined): Truncation | null {
  const snapshotVersion = snapshot !== undefined && snapshot.version > end.version ? snapshot.version : null;
  const runStatus = run !== undefined && end.status !== null && !end.ended && run.status !== end.status ? run.status : null;
  return snapshotVersion === null && runStatus === null ? null : { logVersion: end.version, snapshotVersion, runStatus };
}

export function truncationText(t: Truncation): string {
  const claims = [
    ...(t.snapshotVersion === null ? [] : [`the run's snapshot says it reached version ${String(t.snapshotVersion)}`]),
    ...(t.runStatus === null ? [] : [`the runs row says the run is ${t.runStatus}`]),
  ];
  return `the log ends at version ${String(t.logVersion)} but ${claims.join(' and ')}`;
}

/** Holds a rebuilt run against its snapshot and runs row; throws TruncatedLogError when they are ahead of it. */
export async function refuseTruncated(store: EventStore, state: RunState): Promise<void> {
  const runId = state.run.runId;
  const [snapshot, run] = await Promise.all([store.loadSnapshot(runId), store.getRun(runId)]);
  const truncation = findTruncation(logEndOf(state), snapshot, run);
  if (truncation !== null) throw new TruncatedLogError(runId, truncation);
}
