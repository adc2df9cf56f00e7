/**
 * Timers longer than Node's 32-bit limit wait as long as asked. Vitest's fake timers behave like Node
 * here (a delay past 2^31-1 ms fires after 1 ms), so 597 hours pass without waiting for them.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_STEP_MS, setLongTimeout } from '../../src/os/long-timeout.js';
import { systemClock } from '../../src/engine/clock.js';

const HOUR = 3_600_000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a long timer', () => {
  it('of 597 hours fires after 597 hours, not at once', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 597 * HOUR);
    vi.advanceTimersByTime(1000);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(597 * HOUR - 1000 - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('of 1000 hours (a back-off) fires once, at its time, through several steps', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 1000 * HOUR);
    expect(1000 * HOUR).toBeGreaterThan(MAX_TIMER_STEP_MS);
    vi.advanceTimersByTime(1000 * HOUR - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(2000 * HOUR);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('can be cleared in any of its steps', () => {
    const fired = vi.fn();
    const timer = setLongTimeout(fired, 1000 * HOUR);
    vi.advanceTimersByTime(MAX_TIMER_STEP_MS + HOUR);
    timer.clear();
    vi.advanceTimersByTime(2000 * HOUR);
    expect(fired).not.toHaveBeenCalled();
  });

  it('of a short delay is one ordinary timer', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 50);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(49);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it("is what the engine's clock arms: a 597h attempt timeout does not fire early", () => {
    const fired = vi.fn();
    const handle = systemClock.setTimer(fired, 597 * HOUR);
    vi.advanceTimersByTime(596 * HOUR);
    expect(fired).not.toHaveBeenCalled();
    systemClock.clearTimer(handle);
    vi.advanceTimersByTime(2 * HOUR);
    expect(fired).not.toHaveBeenCalled();
  });
});
