/**
 * A trust policy: rules that decide, before a worker starts, whether it runs (`trust`), waits for a
 * person (`ask`) or is refused (`deny`). The order, after DESIGN.md's "deny patterns → deny; allow
 * patterns → trust; otherwise ask":
 *
 *   1. every `deny` rule, in file order: the first that matches denies;
 *   2. `--auto-approve` trusts whatever no deny rule caught;
 *   3. the other rules (`trust` and `ask`), in file order: the first that matches decides;
 *   4. a packet marked `trusted: true` in its plan is trusted;
 *   5. the policy's `default` (`ask` unless it says otherwise).
 *
 * So a deny rule cannot be outranked by a rule above it, by the plan, or by the command line.
 */
import { z } from 'zod';
import { pathGlobs, policySubject, proseGlobs, textGlobs, type SubjectTest } from './policy-globs.js';
import { WORKER_KINDS, type TrustInput, type TrustResolver, type TrustVerdict } from './trust-resolver.js';

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

interface CompiledRule {
  source: string;
  outcome: PolicyRule['outcome'];
  matches: SubjectTest;
}

/**
 * A resolver for `policy`. `policyName` is how decisions name it: a verdict's source reads
 * `policy:<policyName>#rules[2] (no-rm)` (the index counts from 0, as paths in messages do) or
 * `policy:<policyName>#default`.
 */
export function policyTrustResolver(policy: TrustPolicy, policyName: string): TrustResolver {
  const rules = policy.rules.map((rule, index): CompiledRule => {
    const name = rule.name === undefined ? '' : ` (${rule.name})`;
    return { source: `policy:${policyName}#rules[${String(index)}]${name}`, outcome: rule.outcome, matches: compileMatch(rule.match) };
  });
  const denying = rules.filter((rule) => rule.outcome === 'deny');
  const deciding = rules.filter((rule) => rule.outcome !== 'deny');
  const fallback: TrustVerdict = { decision: policy.default, source: `policy:${policyName}#default` };

  return (input: TrustInput): TrustVerdict => {
    const subject = policySubject(input);
    const denied = denying.find((rule) => rule.matches(subject));
    if (denied !== undefined) return { decision: 'deny', source: denied.source };
    if (input.autoApprove) return { decision: 'trust', source: 'flag:--auto-approve' };
    const decided = deciding.find((rule) => rule.matches(subject));
    if (decided !== undefined) return { decision: decided.outcome, source: decided.source };
    if (input.packet.trusted === true) return { decision: 'trust', source: 'plan:trusted' };
    return fallback;
  };
}

/** A rule matches when every field it names matches. */
function compileMatch(match: PolicyMatch): SubjectTest {
  const tests: SubjectTest[] = [];
  if (match.id !== undefined) tests.push(textGlobs(match.id, (s) => s.id));
  if (match.objective !== undefined) tests.push(proseGlobs(match.objective, (s) => s.objective));
  if (match.command !== undefined) tests.push(textGlobs(match.command, (s) => s.command));
  if (match.cwd !== undefined) tests.push(pathGlobs(match.cwd, (s) => s.cwd));
  if (match.scope_path !== undefined) tests.push(pathGlobs(match.scope_path, (s) => s.scopePath));
  if (match.worker !== undefined) {
    const kinds: readonly string[] = typeof match.worker === 'string' ? [match.worker] : match.worker;
    tests.push((s) => kinds.includes(s.worker));
  }
  return (subject) => tests.every((test) => test(subject));
}
