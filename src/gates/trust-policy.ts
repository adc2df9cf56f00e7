/**
 * A trust policy: rules that decide, before a worker starts, whether it runs (`trust`), waits for a
 * person (`ask`) or is refused (`deny`). The order ("deny patterns → deny; allow patterns → trust;
 * otherwise ask", made precise in docs/policies-gates-recovery.md):
 *
 *   1. every `deny` rule, in file order: the first that matches denies;
 *   2. `--auto-approve` trusts whatever no deny rule caught;
 *   3. the other rules (`trust` and `ask`), in file order: the first that matches decides;
 *   4. a packet marked `trusted: true` in its plan is trusted;
 *   5. the policy's `default` (`ask` unless it says otherwise).
 *
 * So a deny rule cannot be outranked by a rule above it, by the plan, or by the command line.
 */
import type { PolicyMatch, PolicyRule, TrustPolicy } from '../planning/policy-rules.js';
import { pathGlobs, policySubject, proseGlobs, textGlobs, type SubjectTest } from './policy-globs.js';
import type { TrustInput, TrustResolver, TrustVerdict } from './trust-resolver.js';

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
