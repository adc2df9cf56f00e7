/** Time for the runtime, injected so tests can run back-off schedules on a fake clock. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (fn: () => void, ms: number) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
});
