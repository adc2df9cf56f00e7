/**
 * A place in a run's log as a person or a page writes it: `replay --to`, `events --since`, and the
 * viewer's `at` (global positions) and `since` (stream versions). One rule everywhere: decimal digits
 * only (no sign, exponent, fraction or spaces: `1e3` and `-5` are not positions), no larger than the
 * store's bigint columns hold. Every event's position and version is at least 1, so 0 is the point
 * before a run's first event: reading from it gives the whole log, folding up to it gives nothing.
 */

const DIGITS = /^\d+$/;
/** Postgres bigint, the type of the store's position column. */
const LARGEST = 2n ** 63n - 1n;

export const POSITION_HINT = 'an event position (a whole number, as `overseer events` shows)';

/** The position `text` names, or null when it is not written as one. */
export function parseLogPosition(text: string): bigint | null {
  if (!DIGITS.test(text)) return null;
  const position = BigInt(text);
  return position <= LARGEST ? position : null;
}

/** Why a fold up to `position` is empty: the run's first event comes later. */
export function nothingAtOrBefore(runId: string, position: bigint, first: bigint | undefined): string {
  return `run ${runId} has no event at or before position ${position.toString()} (its first is at ${first?.toString() ?? '?'})`;
}
