/**
 * Durations as people write them in plan files: `500ms`, `30s`, `10m`, `1h`, `1h30m`, or a bare
 * number of seconds (`90`, `0.5`). Parsing is a value, not a throw, so a plan reports every bad
 * duration along with its other problems.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * The longest duration: ten years (87600h) is already "never" for a timeout or a back-off. A bound
 * is needed at all because a duration becomes a due time, `now + duration`, in the log and on the
 * page: past Date's range (about 273,000 years) or the safe integers it could not be recorded, and
 * the run would stop after it had started instead of the plan being refused up front.
 */
const MAX_HOURS = 87_600;
const MAX_DURATION_MS = MAX_HOURS * UNIT_MS.h;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

export const DURATION_HINT = `a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most ${String(MAX_HOURS)}h (ten years)`;

/** Milliseconds (a positive integer, rounded up) or null when `value` is not a duration, or too long. */
export function parseDuration(value: string | number): number | null {
  if (typeof value === 'number') return fromMs(value * 1000);
  const text = value.trim();
  if (SECONDS.test(text)) return fromMs(Number(text) * 1000);
  if (!WHOLE.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return fromMs(total);
}

function fromMs(ms: number): number | null {
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DURATION_MS) return null;
  return Math.ceil(ms);
}

/** A duration as a plan file would write it (`300ms`, `30s`), for messages a person may copy back. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${String(ms / 1000)}s` : `${String(ms)}ms`;
}
