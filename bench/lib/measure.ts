/**
 * Timing helpers. The bench machine is small and noisy, so nothing here reports an absolute time on
 * its own: every comparison runs both sides side by side, alternating which goes first, over several
 * rounds, and reports the MEDIAN of the per-round ratios (each round's ratio comes from two
 * measurements taken seconds apart, so slow drift of the machine cancels out).
 */
import { performance } from 'node:perf_hooks';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/** Milliseconds one call of `fn` takes. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/**
 * Milliseconds per call of `fn`, calling it again until at least `minMs` have passed (so a fast
 * operation is not timed from a single sample at timer resolution).
 */
export async function msPerCall(fn: () => Promise<unknown>, minMs: number): Promise<number> {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    await fn();
    calls += 1;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return elapsed / calls;
}

export interface SideBySide {
  /** Milliseconds per round for the Overseer side. */
  overseerMs: number[];
  /** Milliseconds per round for the raw side. */
  rawMs: number[];
}

/**
 * Runs `overseer(round)` and `raw(round)` once per round, alternating which goes first, and returns
 * what each returned (a duration in ms per unit of work).
 */
export async function interleave(
  rounds: number,
  overseer: (round: number) => Promise<number>,
  raw: (round: number) => Promise<number>,
): Promise<SideBySide> {
  const result: SideBySide = { overseerMs: [], rawMs: [] };
  for (let round = 0; round < rounds; round += 1) {
    if (round % 2 === 0) {
      result.overseerMs.push(await overseer(round));
      result.rawMs.push(await raw(round));
    } else {
      result.rawMs.push(await raw(round));
      result.overseerMs.push(await overseer(round));
    }
  }
  return result;
}

/** Median over rounds of (a[i] / b[i]). */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((value, index) => value / (b[index] ?? Number.NaN)));
}

/**
 * Like `interleave`, for any number of sides: each round runs every side once, starting with a
 * different one each round, and returns what each side returned, per round.
 */
export async function interleaveAll(rounds: number, sides: readonly ((round: number) => Promise<number>)[]): Promise<number[][]> {
  const results: number[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round += 1) {
    for (let offset = 0; offset < sides.length; offset += 1) {
      const side = (round + offset) % sides.length;
      results[side]?.push(await (sides[side] as (round: number) => Promise<number>)(round));
    }
  }
  return results;
}
