/**
 * Recovery recipes as a plan author writes them, per failure kind, under `defaults.recovery` and a
 * packet's `recovery`:
 *
 *   exit_nonzero: { max_attempts: 3, backoff: { initial: 1s, factor: 2, max: 30s, jitter: 0.2 }, escalate: skip }
 *   '*': { escalate: fail_run }      # every kind this level does not name
 *
 * resolved into the machines' `RecoveryRecipes`, every kind present. For each kind, at each level the
 * kind's own entry is used, else that level's `'*'`; the levels then apply field by field over the
 * built-in recipe: built-in ← plan defaults ← packet.
 */
import * as z from 'zod';
import {
  DEFAULT_RECIPES,
  ESCALATIONS,
  FAILURE_KINDS,
  type FailureKind,
  type RecoveryRecipe,
  type RecoveryRecipes,
} from '../../machines/recovery.js';
import { DURATION_HINT, parseDuration } from '../os/duration.js';
import { planErrorMessages, problemsFromIssues, type PlanPath, type PlanProblem } from './plan-problem.js';

/** A delay may be zero (retry at once), unlike a time limit. */
function delayMs(value: string | number): number | null {
  if (value === 0 || (typeof value === 'string' && /^\s*0+(?:\.0+)?(?:ms|s|m|h)?\s*$/.test(value))) return 0;
  return parseDuration(value);
}

const Delay = z.custom<string | number>(
  (value) => (typeof value === 'string' || typeof value === 'number') && delayMs(value) !== null,
  { error: `expected 0 or ${DURATION_HINT}` },
);

const Backoff = z
  .strictObject({
    initial: Delay.optional(),
    factor: z.number().min(1, { error: 'must be at least 1' }).optional(),
    max: Delay.optional(),
    jitter: z.number().min(0, { error: 'must be between 0 and 1' }).max(1, { error: 'must be between 0 and 1' }).optional(),
  })
  .refine((b) => b.initial === undefined || b.max === undefined || (delayMs(b.max) ?? 0) >= (delayMs(b.initial) ?? 0), {
    error: 'must not be less than initial',
    path: ['max'],
    when: (payload) => payload.issues.length === 0,
  });

export const RecipeOverride = z.strictObject({
  max_attempts: z.number().int().positive().optional(),
  backoff: Backoff.optional(),
  escalate: z.enum(ESCALATIONS).optional(),
});
export type RecipeOverride = z.infer<typeof RecipeOverride>;

/** The kind written `'*'` stands for every kind its level does not name. */
export const ANY_FAILURE = '*';
type RecoveryKey = FailureKind | typeof ANY_FAILURE;

const recoveryShape = Object.fromEntries([...FAILURE_KINDS, ANY_FAILURE].map((kind) => [kind, RecipeOverride.optional()])) as Record<
  RecoveryKey,
  z.ZodOptional<typeof RecipeOverride>
>;

/** What `defaults.recovery` and a packet's `recovery` hold. */
export const RecoveryOverrides = z.strictObject(recoveryShape);
export type RecoveryOverrides = z.infer<typeof RecoveryOverrides>;

export type RecipesResult = { ok: true; recipes: RecoveryRecipes } | { ok: false; problems: PlanProblem[] };

/** Where each level's problems are reported; a plan passes the packet's own path. */
export interface RecoveryPaths {
  defaults: PlanPath;
  packet: PlanPath;
}

const UNKNOWN_KIND = `unknown key (failure kinds are ${FAILURE_KINDS.join(', ')}, and '*' for the rest)`;
const UNKNOWN_FIELD = 'unknown key (a recipe has max_attempts, backoff, escalate)';
const UNKNOWN_BACKOFF = 'unknown key (backoff has initial, factor, max, jitter)';

/** `defaults` and `packet` are the `recovery` objects as written; either may be undefined. */
export function resolveRecipes(
  defaults: unknown,
  packet: unknown,
  paths: RecoveryPaths = { defaults: ['defaults', 'recovery'], packet: ['recovery'] },
): RecipesResult {
  const plan = readOverrides(defaults, paths.defaults);
  const own = readOverrides(packet, paths.packet);
  if (!plan.ok || !own.ok) return { ok: false, problems: [...(plan.ok ? [] : plan.problems), ...(own.ok ? [] : own.problems)] };

  const recipes = {} as RecoveryRecipes;
  for (const kind of FAILURE_KINDS) {
    let recipe: RecoveryRecipe = { ...DEFAULT_RECIPES[kind] };
    for (const level of [plan.overrides, own.overrides]) {
      const override = level[kind] ?? level[ANY_FAILURE];
      if (override !== undefined) recipe = applyOverride(recipe, override);
    }
    recipes[kind] = recipe;
  }
  return { ok: true, recipes };
}

type Read = { ok: true; overrides: RecoveryOverrides } | { ok: false; problems: PlanProblem[] };

function readOverrides(value: unknown, at: PlanPath): Read {
  if (value === undefined) return { ok: true, overrides: {} };
  const parsed = RecoveryOverrides.safeParse(value, { error: planErrorMessages });
  if (parsed.success) return { ok: true, overrides: parsed.data };
  const problems = parsed.error.issues.flatMap((issue) => problemsFromIssues([issue], at, unknownKeyHint(issue.path)));
  return { ok: false, problems };
}

function unknownKeyHint(path: readonly PropertyKey[]): string {
  if (path.length === 0) return UNKNOWN_KIND;
  return path.length === 1 ? UNKNOWN_FIELD : UNKNOWN_BACKOFF;
}

function applyOverride(recipe: RecoveryRecipe, override: RecipeOverride): RecoveryRecipe {
  const next = { ...recipe };
  if (override.max_attempts !== undefined) next.maxAttempts = override.max_attempts;
  if (override.escalate !== undefined) next.escalation = override.escalate;
  const backoff = override.backoff;
  if (backoff === undefined) return next;
  if (backoff.factor !== undefined) next.factor = backoff.factor;
  if (backoff.jitter !== undefined) next.jitter = backoff.jitter;
  if (backoff.initial !== undefined) next.initialDelayMs = delayMs(backoff.initial) ?? next.initialDelayMs;
  if (backoff.max !== undefined) next.maxDelayMs = delayMs(backoff.max) ?? next.maxDelayMs;
  // An initial delay above the inherited cap lifts the cap, so the first retry waits as written.
  else next.maxDelayMs = Math.max(next.maxDelayMs, next.initialDelayMs);
  return next;
}
