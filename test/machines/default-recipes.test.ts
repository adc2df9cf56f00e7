/**
 * A packet whose recipes are all the defaults is recorded without them, and a worker spawned without
 * recipes gets DEFAULT_RECIPES in every worker version: so the defaults are part of what recorded runs
 * mean, and may never change. A different default is a new field in a plan, not an edit here.
 */
import { describe, expect, it } from 'vitest';
import { areDefaultRecipes, DEFAULT_RECIPES } from '../../machines/recovery.js';

const NO_RETRY = { maxAttempts: 1, initialDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: 0.2, escalation: 'skip' };

describe('the default recovery recipes', () => {
  it('are what runs recorded without recipes were folded with', () => {
    expect(DEFAULT_RECIPES).toEqual({
      spawn_failed: NO_RETRY,
      exit_nonzero: NO_RETRY,
      timeout: NO_RETRY,
      gate_red: NO_RETRY,
      worker_lost: { ...NO_RETRY, maxAttempts: 2 },
      service_error: { ...NO_RETRY, maxAttempts: 3 },
      trust_denied: NO_RETRY,
      budget_exceeded: NO_RETRY,
      merge_conflict: { ...NO_RETRY, escalation: 'ask_human' },
    });
  });

  it('are told apart from recipes that differ in one field, miss a kind or add one', () => {
    expect(areDefaultRecipes(structuredClone(DEFAULT_RECIPES))).toBe(true);
    expect(areDefaultRecipes({ ...DEFAULT_RECIPES, timeout: { ...DEFAULT_RECIPES.timeout, jitter: 0.3 } })).toBe(false);
    const { merge_conflict: _left, ...missing } = DEFAULT_RECIPES;
    expect(areDefaultRecipes(missing)).toBe(false);
    expect(areDefaultRecipes({ ...DEFAULT_RECIPES, other: NO_RETRY } as never)).toBe(false);
    expect(areDefaultRecipes({ ...DEFAULT_RECIPES, timeout: { ...DEFAULT_RECIPES.timeout, extra: 1 } } as never)).toBe(false);
    expect(areDefaultRecipes({ ...DEFAULT_RECIPES, timeout: null } as never)).toBe(false);
  });
});
