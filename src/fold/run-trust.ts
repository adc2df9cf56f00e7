/** Trust for a run: the resolver it was started with, and what a resolver is asked about a worker. */
import { defaultTrustResolver, type TrustInput, type TrustResolver } from '../gates/trust-resolver.js';
import { TrustPolicy } from '../planning/policy-rules.js';
import { policyTrustResolver } from '../gates/trust-policy.js';
import { packetOf } from './packet-spec.js';
import type { RunStarted } from './run-events.js';
import type { RunState } from './run-state.js';

// Compiling a policy's globs once per run, not once per worker: batches ask for every spawn.
const compiled = new WeakMap<RunStarted, TrustResolver>();

/** The run's recorded policy, or the default (ask unless trusted). */
export function trustResolverFor(run: RunStarted): TrustResolver {
  if (run.policy === null) return defaultTrustResolver;
  let resolver = compiled.get(run);
  if (resolver === undefined) {
    resolver = policyTrustResolver(TrustPolicy.parse(run.policy.policy), run.policy.name);
    compiled.set(run, resolver);
  }
  return resolver;
}

export function trustInput(state: RunState, workerId: string, workerKind: string): TrustInput {
  const packet = packetOf(state, workerId);
  return { packet, autoApprove: state.run.autoApprove, cwd: state.run.cwd, workerKind };
}
