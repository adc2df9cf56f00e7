/**
 * What a program reads of runs, in the shapes the CLI prints with --json: the list (`status --json`
 * without a run), one run with its workers (`status RUN --json`), and its events in the export line
 * format (`events RUN --json`). Shared by the MCP server and the library.
 */
import type { EventStore } from '../store/event-store.js';
import { rebuildRun, RunNotFoundError } from '../fold/rebuild-run.js';
import { summarizeRun, type RunSummary } from '../fold/run-status.js';
import { OverseerError } from '../errors.js';
import { matchesFilter, unknownWorkers, type EventFilter } from './event-filter.js';
import { eventLine, type EventLine } from './event-line.js';
import { runListEntry } from './run-list-entry.js';

/** A filter on workers that names no worker of the run. */
export class UnknownWorkerError extends OverseerError {
  readonly code = 'NOT_FOUND' as const;
}

export type RunListEntry = ReturnType<typeof runListEntry>;

/** Newest first. */
export async function listRuns(store: EventStore, limit = 50): Promise<RunListEntry[]> {
  return (await store.listRuns(limit)).map(runListEntry);
}

/** The run with its workers, folded from its log (as `status RUN --json` prints it); RunNotFoundError for no run. */
export async function runStatus(store: EventStore, runId: string): Promise<RunSummary> {
  return summarizeRun(await rebuildRun(store, runId));
}

/** The run's events that pass `filter`, in log order, as `events RUN --json` prints them. */
export async function readEvents(store: EventStore, runId: string, filter: Partial<EventFilter> = {}): Promise<EventLine[]> {
  const full: EventFilter = { workers: filter.workers ?? [], types: filter.types ?? [], since: filter.since ?? null };
  // A run is recorded with its first event: no events, no run.
  const events = await store.readStream(runId);
  if (events.length === 0) throw new RunNotFoundError(runId);
  const unknown = unknownWorkers(full, runId, events);
  if (unknown !== null) throw new UnknownWorkerError(unknown);
  return events.filter((e) => matchesFilter(full, e)).map(eventLine);
}
