/** The flags of `overseer events`: --worker ID, --type PREFIX (each repeatable), --since POSITION|ISO-TIME. */
import { parseSince, SINCE_HINT, unknownWorkers, type EventFilter } from '../inspect/event-filter.js';
import type { StoredEvent } from '../store/event-store.js';
import { flagValue, type FlagValue } from './parse-flags.js';
import { UsageError } from './usage-error.js';

const SINCE: FlagValue<NonNullable<EventFilter['since']>> = { expected: SINCE_HINT, read: parseSince };

export function parseEventFilter(values: { worker?: string[] | undefined; type?: string[] | undefined; since?: string | undefined }): EventFilter {
  const types = values.type ?? [];
  if (types.some((t) => t === '')) throw new UsageError('overseer events: --type needs a type or a prefix, e.g. --type trust.');
  return { workers: values.worker ?? [], types, since: flagValue('--since', values.since, SINCE) ?? null };
}

/** A --worker that names no worker of the run is a typo, not an empty answer. */
export function checkWorkers(filter: EventFilter, runId: string, events: readonly StoredEvent[]): void {
  const unknown = unknownWorkers(filter, runId, events);
  if (unknown !== null) throw new UsageError(`overseer events: ${unknown}`);
}
