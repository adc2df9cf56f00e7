/**
 * Failure kinds and recovery recipes, as plain data and pure functions the worker machine uses to
 * decide between retrying and escalating. Jitter comes from a seed carried in the machine's context,
 * so a back-off schedule is the same live and on replay.
 */

export const FAILURE_KINDS = [
  'spawn_failed',
  'exit_nonzero',
  'timeout',
  'gate_red',
  'worker_lost',
  'service_error',
  'trust_denied',
  /** An agent lane passed its budget, or the run's (tokens, cost, time): docs/agents.md. */
  'budget_exceeded',
  /** An agent lane's branch does not rebase onto its target cleanly. */
  'merge_conflict',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/**
 * `skip`: the task and its dependents are skipped, other tasks go on, the run ends failed.
 * `fail_run`: the run stops now: running workers are cancelled and the run fails.
 * `ask_human`: the worker waits until a person retries or gives it up.
 */
export const ESCALATIONS = ['skip', 'fail_run', 'ask_human'] as const;
export type Escalation = (typeof ESCALATIONS)[number];

export interface RecoveryRecipe {
  /** Attempts in all, the first one included: 1 means never retry. */
  maxAttempts: number;
  initialDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** 0..1: the share of each delay that is randomised (full jitter at 1). */
  jitter: number;
  escalation: Escalation;
}

export type RecoveryRecipes = Record<FailureKind, RecoveryRecipe>;

const NO_RETRY: RecoveryRecipe = {
  maxAttempts: 1,
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
  escalation: 'skip',
};

export const DEFAULT_RECIPES: RecoveryRecipes = Object.freeze({
  spawn_failed: NO_RETRY,
  exit_nonzero: NO_RETRY,
  timeout: NO_RETRY,
  gate_red: NO_RETRY,
  worker_lost: { ...NO_RETRY, maxAttempts: 2 },
  service_error: { ...NO_RETRY, maxAttempts: 3 },
  trust_denied: NO_RETRY,
  // Retrying would spend the same money again: skip the lane unless the plan says otherwise.
  budget_exceeded: NO_RETRY,
  // A person resolves the conflict in the lane's worktree and retries (or abandons) it.
  merge_conflict: { ...NO_RETRY, escalation: 'ask_human' },
});

/**
 * True when `recipes` say exactly what DEFAULT_RECIPES say. A worker spawned without recipes gets
 * DEFAULT_RECIPES in every worker version, so such recipes need not be recorded; and DEFAULT_RECIPES
 * may never change (test/machines/default-recipes.test.ts), as runs recorded without them fold with it.
 */
export function areDefaultRecipes(recipes: Partial<Record<string, Partial<RecoveryRecipe>>>): boolean {
  if (Object.keys(recipes).length !== FAILURE_KINDS.length) return false;
  return FAILURE_KINDS.every((kind) => {
    const recipe: Partial<Record<string, unknown>> | undefined = recipes[kind];
    const fields = Object.entries(DEFAULT_RECIPES[kind]);
    return typeof recipe === 'object' && recipe !== null && Object.keys(recipe).length === fields.length && fields.every(([field, value]) => recipe[field] === value);
  });
}

/** mulberry32: a tiny deterministic PRNG; good enough to spread retries, not for secrets. */
function seededUnit(seed: number): number {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** The delay before attempt `attempt + 1`, after `attempt` attempts have failed. */
export function backoffDelayMs(recipe: RecoveryRecipe, attempt: number, seed: number): number {
  const base = Math.min(recipe.maxDelayMs, recipe.initialDelayMs * recipe.factor ** Math.max(0, attempt - 1));
  const spread = base * recipe.jitter;
  return Math.round(base - spread + spread * seededUnit(seed * 7919 + attempt));
}
