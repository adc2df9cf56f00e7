/**
 * Durations as people write them in plan files: `500ms`, `30s`, `10m`, `1h`, `1h30m`, or a bare
 * number of seconds (`90`, `0.5`). Parsing is a value, not a throw, so a plan reports every bad
 * duration along with its other problems.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const SECONDS = /^\d+(?:\.\d+)?$/;

export const DURATION_HINT = 'a duration like 500ms, 30s, 10m, 1h or a number of seconds';

/** Milliseconds (a positive integer, rounded up) or null when `value` is not a duration. */
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
  if (!Number.isFinite(ms) || ms <= 0) return null;
  return Math.ceil(ms);
}

/** A duration as a plan file would write it (`300ms`, `30s`), for messages a person may copy back. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${String(ms / 1000)}s` : `${String(ms)}ms`;
}
