/**
 * Checking a run's log: versions 1, 2, 3 … without a gap, each event linked to the previous one's
 * hash, each hash over the event as stored, naming the first event that breaks it; then the log's end
 * held against what the run's snapshot and runs row say it reached, since events removed from the end
 * leave the chain intact.
 */
import { findTruncation, logEndOfEvents, truncationText, type LogClaims, type Truncation } from '../fold/truncated-log.js';
import { findChainBreak, type ChainBreak, type ChainBreakReason } from '../store/event-hash.js';
import type { StoredEvent } from '../store/event-store.js';

const REASONS: Record<ChainBreakReason, string> = {
  version_gap: 'its version does not follow the previous event (an event is missing or out of place)',
  prev_hash_mismatch: 'it does not link to the previous event (an event before it was removed, added or replaced)',
  hash_mismatch: 'its content does not match its hash (it was changed after it was written)',
};

export interface RunLogCheck {
  broken: ChainBreak | null;
  truncated: Truncation | null;
  /** One line per problem, empty when the log holds. */
  problems: string[];
}

/** `claims` must be read before `events` (see truncated-log.ts): a run still going is not taken for a cut one. */
export function checkRunLog(runId: string, events: readonly StoredEvent[], claims: LogClaims): RunLogCheck {
  const broken = findChainBreak(events);
  const truncated = findTruncation(logEndOfEvents(events), claims);
  const problems: string[] = [];
  if (broken !== null) {
    const e = broken.event;
    problems.push(`run ${runId}: chain broken at position ${e.position.toString()} (version ${String(e.version)}, ${e.type}): ${REASONS[broken.reason]} [${broken.reason}]`);
  }
  if (truncated !== null) problems.push(`run ${runId}: truncated: ${truncationText(truncated)} (events were removed from its end) [truncated]`);
  return { broken, truncated, problems };
}
