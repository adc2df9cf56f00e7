/**
 * Timers of any length. Node holds a timer's delay as a signed 32-bit count of milliseconds: a longer
 * one (past 2^31-1 ms, about 596 hours) fires after 1 ms with a TimeoutOverflowWarning. So a long
 * delay is waited out in steps of at most that size, each armed when the one before fires.
 */

/** The longest delay one `setTimeout` honours. */
export const MAX_TIMER_STEP_MS = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

export function setLongTimeout(fn: () => void, ms: number): LongTimeout {
  let handle: NodeJS.Timeout;
  const arm = (remaining: number): void => {
    handle = remaining > MAX_TIMER_STEP_MS ? setTimeout(() => arm(remaining - MAX_TIMER_STEP_MS), MAX_TIMER_STEP_MS) : setTimeout(fn, remaining);
  };
  arm(Math.max(0, ms));
  return { clear: () => clearTimeout(handle) };
}
