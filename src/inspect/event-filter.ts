/**
 * Which of a run's events a reader wants: `overseer events --worker/--type/--since`, the MCP tool
 * `run_events`, the library's `readEvents`. One rule for all of them.
 */
import type { StoredEvent } from '../store/event-store.js';
import { parseLogPosition, POSITION_HINT } from './log-position.js';

export interface EventFilter {
  /** Worker (packet) ids; empty: every machine. */
  workers: string[];
  /** Type prefixes (`trust.` matches trust.decided, trust.approved, …); empty: every type. */
  types: string[];
  /** Events at or after this global position, or at or after this time. */
  since: { position: bigint } | { time: Date } | null;
}

export const SINCE_HINT = `${POSITION_HINT} or an ISO time (e.g. 2026-01-31T09:30:00Z)`;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A position by the rule every command and the viewer share; anything else must be an ISO time. */
export function parseSince(text: string): NonNullable<EventFilter['since']> | null {
  const position = parseLogPosition(text);
  if (position !== null) return { position };
  const time = ISO_TIME.test(text) ? new Date(text) : null;
  return time === null || Number.isNaN(time.getTime()) ? null : { time };
}

export function matchesFilter(filter: EventFilter, event: StoredEvent): boolean {
  if (filter.workers.length > 0 && (event.workerId === null || !filter.workers.includes(event.workerId))) return false;
  if (filter.types.length > 0 && !filter.types.some((prefix) => event.type.startsWith(prefix))) return false;
  const since = filter.since;
  if (since !== null && ('position' in since ? event.position < since.position : event.createdAt < since.time)) return false;
  return true;
}

/**
 * What is wrong with filter workers that name no worker of the run (a typo, not an empty answer), or
 * null. Known ids are the plan's packets and any worker in the log; before the plan is ready any id is taken.
 */
export function unknownWorkers(filter: EventFilter, runId: string, events: readonly StoredEvent[]): string | null {
  if (filter.workers.length === 0) return null;
  const plan = events.find((e) => e.type === 'plan.ready');
  if (plan === undefined) return null;
  const packets = (plan.payload as { packets?: Array<{ id?: unknown }> }).packets ?? [];
  const known = new Set([...packets.map((p) => String(p.id)), ...events.flatMap((e) => (e.workerId === null ? [] : [e.workerId]))]);
  const unknown = filter.workers.filter((id) => !known.has(id));
  return unknown.length === 0 ? null : `run ${runId} has no worker ${unknown.join(', ')} (its workers: ${[...known].join(', ')})`;
}
