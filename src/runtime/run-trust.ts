/** The trust resolver a run was started with: its recorded policy, or the default (ask unless trusted). */
import { defaultTrustResolver, type TrustResolver } from '../gates/trust-resolver.js';
import { policyTrustResolver, TrustPolicy } from '../gates/trust-policy.js';
import type { RunStarted } from './run-events.js';

export function trustResolverFor(run: RunStarted): TrustResolver {
  if (run.policy === null) return defaultTrustResolver;
  return policyTrustResolver(TrustPolicy.parse(run.policy.policy), run.policy.name);
}
