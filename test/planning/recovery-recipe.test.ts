import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECIPES, FAILURE_KINDS, type RecoveryRecipes } from '../../machines/recovery.js';
import { formatProblems, parsePlan } from '../../src/planning/plan.js';
import { resolveRecipes } from '../../src/planning/recovery-recipe.js';

function recipesOf(defaults: unknown, packet: unknown): RecoveryRecipes {
  const result = resolveRecipes(defaults, packet);
  if (!result.ok) throw new Error(formatProblems(result.problems, 'test'));
  return result.recipes;
}

function planProblems(plan: object): Record<string, string> {
  const result = parsePlan(plan, 'plan.yaml');
  if (result.ok) throw new Error('expected the plan to be rejected');
  return Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
}

describe('recovery recipes', () => {
  it('are the built-in ones when a plan says nothing', () => {
    expect(recipesOf(undefined, undefined)).toEqual(DEFAULT_RECIPES);
    const plan = parsePlan({ packets: [{ objective: 'a' }] }, 'p');
    expect(plan.ok && plan.plan.packets[0]?.recipes).toEqual(DEFAULT_RECIPES);
  });

  it('read the words of a YAML plan: durations, escalations, and * for every kind not named', () => {
    const plan = parsePlan(
      parseYaml(`
defaults:
  recovery:
    exit_nonzero: { max_attempts: 3, backoff: { initial: 1s, factor: 2, max: 30s, jitter: 0.2 }, escalate: skip }
    timeout: { max_attempts: 2, escalate: ask_human }
    '*': { escalate: fail_run }
packets:
  - objective: build
`),
      'plan.yaml',
    );
    if (!plan.ok) throw new Error(formatProblems(plan.problems, 'plan.yaml'));
    const recipes = plan.plan.packets[0]?.recipes;
    expect(recipes?.exit_nonzero).toEqual({ maxAttempts: 3, initialDelayMs: 1000, factor: 2, maxDelayMs: 30_000, jitter: 0.2, escalation: 'skip' });
    // A named kind does not take from '*': only what it says changes the built-in recipe.
    expect(recipes?.timeout).toEqual({ ...DEFAULT_RECIPES.timeout, maxAttempts: 2, escalation: 'ask_human' });
    for (const kind of FAILURE_KINDS.filter((k) => k !== 'exit_nonzero' && k !== 'timeout')) {
      expect(recipes?.[kind]).toEqual({ ...DEFAULT_RECIPES[kind], escalation: 'fail_run' });
    }
  });

  it("let a packet override the plan's defaults field by field, per failure kind", () => {
    const defaults = { exit_nonzero: { max_attempts: 3, backoff: { initial: '2s' }, escalate: 'skip' }, '*': { escalate: 'fail_run' } };
    const recipes = recipesOf(defaults, { exit_nonzero: { max_attempts: 5 }, '*': { max_attempts: 2 } });
    expect(recipes.exit_nonzero).toMatchObject({ maxAttempts: 5, initialDelayMs: 2000, escalation: 'skip' });
    // The packet's '*' stands for gate_red (which it does not name) and lands on the defaults' '*'.
    expect(recipes.gate_red).toMatchObject({ maxAttempts: 2, escalation: 'fail_run' });
    expect(recipes.service_error).toMatchObject({ maxAttempts: 2, escalation: 'fail_run' });
  });

  it('retry at once with a zero delay, and lift the cap for a first delay above it', () => {
    expect(recipesOf(undefined, { exit_nonzero: { backoff: { initial: 0 } } }).exit_nonzero.initialDelayMs).toBe(0);
    expect(recipesOf(undefined, { exit_nonzero: { backoff: { initial: '0s', max: '0ms' } } }).exit_nonzero).toMatchObject({
      initialDelayMs: 0,
      maxDelayMs: 0,
    });
    expect(recipesOf(undefined, { timeout: { backoff: { initial: '5m' } } }).timeout).toMatchObject({
      initialDelayMs: 300_000,
      maxDelayMs: 300_000,
    });
  });

  it('are plan problems, each with its path, when they are wrong', () => {
    expect(
      planProblems({
        packets: [
          { objective: 'fine', recovery: { exit_nonzero: { max_attempts: 2 } } },
          {
            objective: 'bad',
            recovery: {
              exit_nonzero: { max_attempts: 0, escalate: 'retry_forever' },
              timeout: { backoff: { initial: 'soon', factor: 0.5, jitter: 2, delay: '1s' } },
              gate_red: { backoff: { initial: '10s', max: '1s' }, retries: 3 },
              crashed: { max_attempts: 2 },
            },
          },
          { objective: 'odd', recovery: 'retry' },
        ],
      }),
    ).toEqual({
      'packets[1].recovery.exit_nonzero.max_attempts': 'must be greater than 0',
      'packets[1].recovery.exit_nonzero.escalate': 'expected one of skip, fail_run, ask_human',
      'packets[1].recovery.timeout.backoff.initial': 'expected 0 or a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'packets[1].recovery.timeout.backoff.factor': 'must be at least 1',
      'packets[1].recovery.timeout.backoff.jitter': 'must be between 0 and 1',
      'packets[1].recovery.timeout.backoff.delay': 'unknown key (backoff has initial, factor, max, jitter)',
      'packets[1].recovery.gate_red.backoff.max': 'must not be less than initial',
      'packets[1].recovery.gate_red.retries': 'unknown key (a recipe has max_attempts, backoff, escalate)',
      'packets[1].recovery.crashed':
        "unknown key (failure kinds are spawn_failed, exit_nonzero, timeout, gate_red, worker_lost, service_error, trust_denied, budget_exceeded, merge_conflict, and '*' for the rest)",
      'packets[2].recovery': 'expected an object, got a string',
    });
  });

  it('report a bad default once, under defaults, not for every packet', () => {
    const result = parsePlan(
      { defaults: { recovery: { timeout: { max_attempts: 1.5 } } }, packets: [{ objective: 'a' }, { objective: 'b' }] },
      'plan.yaml',
    );
    expect(result).toEqual({
      ok: false,
      problems: [{ path: 'defaults.recovery.timeout.max_attempts', message: 'expected an integer, got number 1.5' }],
    });
  });
});
