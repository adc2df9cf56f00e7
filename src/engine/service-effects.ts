/**
 * What the workflow does through the seed's services: plan with the planner and run the bootstrap
 * phases. Every answer and every failure becomes an event; a failure that outlasts its retries
 * becomes the run's failure, never an exception. (Workers run through the worker service are the
 * service kind's: src/workers/kinds/service-kind.ts.)
 */
import { DEFAULT_BOOTSTRAP_PHASES, phaseFailureReason } from '../planning/bootstrap-service.js';
import type { RunEvent } from '../fold/run-events.js';
import { serviceErrorPayload, type FailureReport, type RunServices } from '../workers/run-services.js';
import type { RunState } from '../fold/run-state.js';

export interface ServiceEffectHost {
  commit(events: RunEvent[]): Promise<void>;
  current(): RunState;
  services: RunServices;
}

const workflowEvent = (type: string, payload: Record<string, unknown>): RunEvent => ({ type, machine: 'workflow', workerId: null, payload });

/** Records each failed call as a `service.error` of the workflow. */
function reporter(host: ServiceEffectHost): FailureReport {
  return (failure) => host.commit([workflowEvent('service.error', serviceErrorPayload(failure))]);
}

export async function planWithService(host: ServiceEffectHost): Promise<void> {
  const run = host.current().run;
  const planner = host.services.planner();
  const result = await host.services.withRetries('planner', 'decompose', () => planner.decompose({ objective: run.objective, context: {} }), reporter(host));
  if (!result.ok) {
    await host.commit([workflowEvent('plan.failed', { reason: `planner: ${result.error.message}` })]);
    return;
  }
  await host.commit([workflowEvent('plan.ready', { packets: result.value.plan.packets })]);
}

export async function bootstrapWithService(host: ServiceEffectHost): Promise<void> {
  const run = host.current().run;
  const phases = run.bootstrap.length > 0 ? run.bootstrap : DEFAULT_BOOTSTRAP_PHASES.map((phase) => ({ phase }));
  const bootstrap = host.services.bootstrap();
  const artifacts: Record<string, unknown> = {};
  for (const phase of phases) {
    const result = await host.services.withRetries('bootstrap', 'execute_phase', () => bootstrap.executePhase(phase, { artifacts }), reporter(host));
    if (!result.ok) {
      await host.commit([workflowEvent('bootstrap.failed', { phase: phase.phase, reason: result.error.message })]);
      return;
    }
    // `success: false` is an answer, not a misbehaviour: retrying would get the same answer.
    if (!result.value.success) {
      await host.commit([workflowEvent('bootstrap.failed', { phase: phase.phase, reason: phaseFailureReason(result.value) })]);
      return;
    }
    artifacts[phase.phase] = result.value.artifacts ?? null;
  }
  await host.commit([workflowEvent('bootstrap.completed', { phases: phases.map((p) => p.phase), artifacts })]);
}
