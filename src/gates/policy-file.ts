/**
 * Loading a trust policy from where a user put it: a file (`--policy FILE`, or a path under a plan's
 * `policy:` key) or the rules written inline in the plan. Every way it can be wrong comes back as one
 * line, in the plan's style: `guard.yaml: rules[1].outcome: expected one of trust, ask, deny`.
 */
import { resolve } from 'node:path';
import { readStructuredFile } from '../planning/structured-file.js';
import { formatProblems, type PlanProblem } from '../planning/plan-problem.js';
import { checkPolicy, type TrustPolicy } from '../planning/policy-rules.js';

export type PolicyLoad = { ok: true; policy: TrustPolicy; name: string } | { ok: false; message: string };

/** What a plan calls an inline policy in verdict sources: `policy:plan#rules[0]`. */
export const INLINE_POLICY_NAME = 'plan';

/**
 * `source` is a path (relative ones are resolved against `baseDir`: the plan file's directory for a
 * plan's `policy:`, the working directory for `--policy`) or an inline policy object. The result's
 * `name` is the path as written, or `plan` for an inline policy. Problems with an inline policy are
 * addressed from the plan's top (`policy.rules[0].outcome: ...`) so the caller can prefix the plan's
 * name, as it does for the plan's own problems.
 */
export async function loadPolicy(source: string | object, baseDir: string): Promise<PolicyLoad> {
  if (typeof source !== 'string') {
    const problems = checkPolicy(source, ['policy']);
    if (problems.ok) return { ok: true, policy: problems.policy, name: INLINE_POLICY_NAME };
    return { ok: false, message: oneLine(problems.problems) };
  }
  const parsed = await readStructuredFile(resolve(baseDir, source), 'policy');
  if (!parsed.ok) return { ok: false, message: `${source}: ${parsed.message}` };
  const checked = checkPolicy(parsed.value, []);
  if (checked.ok) return { ok: true, policy: checked.policy, name: source };
  return { ok: false, message: formatProblems(checked.problems, source) };
}

/** The plan's one-line style, without a source in front: the caller has the plan's name. */
function oneLine(problems: readonly PlanProblem[]): string {
  return problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ').replace(/\s*\n\s*/g, ' ');
}
