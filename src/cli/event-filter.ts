/** The filters of `overseer events`: --worker ID, --type PREFIX (each repeatable), --since POSITION|ISO-TIME. */
import { parseLogPosition, POSITION_HINT } from '../inspect/log-position.js';
import type { StoredEvent } from '../store/event-store.js';
import { flagValue, type FlagValue } from './parse-flags.js';
import { UsageError } from './usage-error.js';

export interface EventFilter {
  /** Worker (packet) ids; empty: every machine. */
  workers: string[];
  /** Type prefixes (`trust.` matches trust.decided, trust.approved, …); empty: every type. */
  types: string[];
  /** Events at or after this global position, or at or after this time. */
  since: { position: bigint } | { time: Date } | null;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function isoTime(text: string): Date | null {
  const time = ISO_TIME.test(text) ? new Date(text) : null;
  return time === null || Number.isNaN(time.getTime()) ? null : time;
}

/** A position by the rule every command and the viewer share; anything else must be a time. */
const SINCE: FlagValue<NonNullable<EventFilter['since']>> = {
  expected: `${POSITION_HINT} or an ISO time (e.g. 2026-01-31T09:30:00Z)`,
  read(text) {
    const position = parseLogPosition(text);
    if (position !== null) return { position };
    const time = isoTime(text);
    return time === null ? null : { time };
  },
};

export function parseEventFilter(values: { worker?: string[] | undefined; type?: string[] | undefined; since?: string | undefined }): EventFilter {
  const types = values.type ?? [];
  if (types.some((t) => t === '')) throw new UsageError('overseer events: --type needs a type or a prefix, e.g. --type trust.');
  return { workers: values.worker ?? [], types, since: flagValue('--since', values.since, SINCE) ?? null };
}

export function matchesFilter(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.workers.length > 0 && (event.workerId === null || !filter.workers.includes(event.workerId))) return false;
  if (filter.types.length > 0 && !filter.types.some((prefix) => event.type.startsWith(prefix))) return false;
  const since = filter.since;
  if (since !== null && ('position' in since ? event.position < since.position : event.createdAt < since.time)) return false;
  return true;
}

/**
 * A --worker that names no worker of the run is a typo, not an empty answer. Known ids are the plan's
 * packets and any worker in the log; before the plan is ready (a run being followed) any id is taken.
 */
export function checkWorkers(filter: EventFilter, runId: string, events: readonly StoredEvent[]): void {
  if (filter.workers.length === 0) return;
  const plan = events.find((e) => e.type === 'plan.ready');
  if (plan === undefined) return;
  const packets = (plan.payload as { packets?: Array<{ id?: unknown }> }).packets ?? [];
  const known = new Set([...packets.map((p) => String(p.id)), ...events.flatMap((e) => (e.workerId === null ? [] : [e.workerId]))]);
  const unknown = filter.workers.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new UsageError(`overseer events: run ${runId} has no worker ${unknown.join(', ')} (its workers: ${[...known].join(', ')})`);
}
