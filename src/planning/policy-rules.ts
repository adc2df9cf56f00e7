/**
 * A trust policy as it is written, in a plan's `policy:` or a policy file: its rules and default, and
 * the check that turns what was written into a policy or into problems in the plan's style. What a
 * policy decides for a worker about to start is src/gates/trust-policy.ts.
 */
import * as z from 'zod';
import { formatPath, planErrorMessages, problemsFromIssues, type PlanPath, type PlanProblem } from './plan-problem.js';

/** Which driver runs a worker: a shell command, or a JSON-RPC worker service. */
export const WORKER_KINDS = ['shell', 'service'] as const;
export type WorkerKind = (typeof WORKER_KINDS)[number];

export const TRUST_OUTCOMES = ['trust', 'ask', 'deny'] as const;

const Glob = z.string().min(1);
const Globs = z.union([Glob, z.array(Glob).min(1)], { error: 'expected a glob or a list of globs' });
const WorkerKinds = z.union([z.enum(WORKER_KINDS), z.array(z.enum(WORKER_KINDS)).min(1)], {
  error: `expected ${WORKER_KINDS.join(' or ')}, or a list of them`,
});

export const MATCH_FIELDS = ['id', 'objective', 'command', 'cwd', 'scope_path', 'worker'] as const;

export const PolicyMatch = z
  .strictObject({
    id: Globs.optional(),
    objective: Globs.optional(),
    command: Globs.optional(),
    cwd: Globs.optional(),
    scope_path: Globs.optional(),
    worker: WorkerKinds.optional(),
  })
  // An empty match would catch every packet; that is what `default` is for.
  .refine((match) => Object.values(match).some((value) => value !== undefined), {
    error: `name at least one of ${MATCH_FIELDS.join(', ')}`,
    // A match of only misspelt keys is reported once, as its unknown keys.
    when: (payload) => payload.issues.length === 0,
  });
export type PolicyMatch = z.infer<typeof PolicyMatch>;

export const PolicyRule = z.strictObject({
  name: z.string().min(1).optional(),
  match: PolicyMatch,
  outcome: z.enum(TRUST_OUTCOMES),
});
export type PolicyRule = z.infer<typeof PolicyRule>;

export const TrustPolicy = z.strictObject({
  rules: z.array(PolicyRule).default([]),
  default: z.enum(TRUST_OUTCOMES).default('ask'),
});
/** A policy as checked: `rules` and `default` always present. */
export type TrustPolicy = z.output<typeof TrustPolicy>;
/** A policy as written. */
export type TrustPolicyInput = z.input<typeof TrustPolicy>;

type Checked = { ok: true; policy: TrustPolicy } | { ok: false; problems: PlanProblem[] };

/** Problems are addressed under `base`: a plan checks its inline policy with its own problems, at `policy`. */
export function checkPolicy(value: unknown, base: PlanPath): Checked {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null || value === undefined ? 'nothing' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return { ok: false, problems: [{ path: formatPath(base), message: `expected a trust policy (an object with rules), got ${got}` }] };
  }
  const parsed = TrustPolicy.safeParse(value, { error: planErrorMessages });
  if (parsed.success) return { ok: true, policy: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap((issue) => problemsFromIssues([issue], base, unknownKeyHint(issue))) };
}

/** An unknown key is most often a typo: say which keys that level has. */
function unknownKeyHint(issue: z.core.$ZodIssue): string {
  const depth = issue.path.length;
  if (depth === 0) return 'unknown key (a policy has rules, default)';
  if (depth === 2) return 'unknown key (a rule has name, match, outcome)';
  return `unknown key (a match has ${MATCH_FIELDS.join(', ')})`;
}
