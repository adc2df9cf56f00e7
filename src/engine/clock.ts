/** Time for the runtime, injected so tests can run back-off schedules on a fake clock. */
import { setLongTimeout, type LongTimeout } from '../os/long-timeout.js';

export interface Clock {
  now(): number;
  /** Any delay works: a timeout or back-off of weeks waits that long (see long-timeout.ts). */
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer: (fn: () => void, ms: number) => setLongTimeout(fn, ms),
  clearTimer: (handle: unknown) => (handle as LongTimeout).clear(),
});
