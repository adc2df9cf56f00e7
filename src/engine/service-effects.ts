/**
 * What the engine does through the seed's services: plan with the planner, run the bootstrap
 * phases, and take a worker through the worker service (spawn_worker, check_trust, mark_trusted,
 * and our optional run_worker). Every answer and every failure becomes an event; a failure that
 * outlasts its retries becomes the run's or the worker's failure, never an exception.
 */
import type { TrustResolver } from '../gates/trust-resolver.js';
import { DEFAULT_BOOTSTRAP_PHASES, phaseFailureReason } from '../planning/bootstrap-service.js';
import { runFailureReason, type ServiceWorkerId } from '../workers/worker-service.js';
import { workerPacket } from '../fold/packet-spec.js';
import type { RunEvent } from '../fold/run-events.js';
import { succeeded, type ServiceResult } from '../rpc/service-errors.js';
import type { FailureReport, RunServices } from './run-services.js';
import { trustInput } from '../fold/run-trust.js';
import type { RunState } from '../fold/run-state.js';

export interface ServiceEffectHost {
  commit(events: RunEvent[]): Promise<void>;
  current(): RunState;
  services: RunServices;
  trustFor(state: RunState): TrustResolver;
}

const workflowEvent = (type: string, payload: Record<string, unknown>): RunEvent => ({ type, machine: 'workflow', workerId: null, payload });
const workerEvent = (workerId: string, type: string, payload: Record<string, unknown>): RunEvent => ({ type, machine: 'worker', workerId, payload });

function reporter(host: ServiceEffectHost, workerId: string | null): FailureReport {
  return (failure) =>
    host.commit([
      {
        type: 'service.error',
        machine: workerId === null ? 'workflow' : 'worker',
        workerId,
        payload: {
          service: failure.service,
          method: failure.method,
          attempt: failure.attempt,
          code: failure.error.code,
          message: failure.error.message,
          retryInMs: failure.retryInMs,
        },
      },
    ]);
}

export async function planWithService(host: ServiceEffectHost): Promise<void> {
  const run = host.current().run;
  const planner = host.services.planner();
  const result = await host.services.withRetries('planner', 'decompose', () => planner.decompose({ objective: run.objective, context: {} }), reporter(host, null));
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
    const result = await host.services.withRetries('bootstrap', 'execute_phase', () => bootstrap.executePhase(phase, { artifacts }), reporter(host, null));
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

/** The packet as the worker service receives it: as planned, plus the bootstrap artifacts as context. */
function servicePacket(state: RunState, workerId: string): Record<string, unknown> {
  const packet = workerPacket(state.packets[workerId] as Record<string, unknown>);
  return 'context' in packet ? packet : { ...packet, context: { bootstrap: state.artifacts } };
}

/**
 * This worker's id on the worker-service process of `incarnation`. An id belongs to the process that
 * gave it: one recorded from an earlier process (before a restart, or before the engine resumed, when
 * services start afresh) is replaced by spawning the worker again on this one, with the same packet,
 * and the new id is recorded. The request is recorded first, so the log shows one a crash left
 * unanswered; the same task_packet (same id) goes out every time (see docs/protocol.md).
 */
async function serviceWorkerOn(host: ServiceEffectHost, workerId: string, incarnation: number): Promise<ServiceResult<ServiceWorkerId>> {
  const recorded = host.current().serviceWorkers[workerId];
  if (recorded !== undefined && host.services.holdsWorker(workerId, incarnation)) return succeeded(recorded);
  await host.commit([workerEvent(workerId, 'service.spawn_requested', { packetId: workerId })]);
  const spawned = await host.services.worker().spawnWorker(servicePacket(host.current(), workerId));
  if (!spawned.ok) return spawned;
  await host.commit([workerEvent(workerId, 'service.worker_spawned', { serviceWorkerId: spawned.value.worker_id })]);
  host.services.workerSpawned(workerId, incarnation);
  return succeeded(spawned.value.worker_id);
}

/** `call` with the worker's id on the worker service as it runs now, spawning the worker there first when it holds none. */
function withServiceWorker<T>(
  host: ServiceEffectHost,
  workerId: string,
  method: string,
  call: (id: ServiceWorkerId) => Promise<ServiceResult<T>>,
  attempts?: number,
): Promise<ServiceResult<T>> {
  const onProcess = async (incarnation: number): Promise<ServiceResult<T>> => {
    const id = await serviceWorkerOn(host, workerId, incarnation);
    return id.ok ? call(id.value) : id;
  };
  return host.services.withRetries('worker service', method, onProcess, reporter(host, workerId), attempts);
}

/**
 * The trust gate with a worker service: the policy's deny still denies; a worker the service says
 * needs no approval is trusted (source `service:check_trust`); one that needs it asks a person unless
 * the policy trusts it.
 */
export async function decideServiceTrust(host: ServiceEffectHost, workerId: string): Promise<void> {
  const service = host.services.worker();
  const checked = await withServiceWorker(host, workerId, 'check_trust', (id) => service.checkTrust(id));
  if (!checked.ok) {
    // Trust could not be checked: nothing runs without a yes, so a person decides.
    const method = checked.error.method ?? 'check_trust';
    await host.commit([workerEvent(workerId, 'trust.decided', { decision: 'ask', source: `service:${method} failed (${checked.error.code})` })]);
    return;
  }
  const state = host.current();
  const verdict = await host.trustFor(state)(trustInput(state, workerId, 'service'));
  const requiresApproval = checked.value.requires_approval;
  const decided = verdict.decision !== 'deny' && !requiresApproval ? { decision: 'trust' as const, source: 'service:check_trust' } : verdict;
  await host.commit([
    workerEvent(workerId, 'service.trust_checked', { requiresApproval }),
    workerEvent(workerId, 'trust.decided', { decision: decided.decision, source: decided.source }),
  ]);
}

/** After the trust gate: mark_trusted, then run_worker when the service has it (else done, as in the seed). */
export function runServiceWorker(host: ServiceEffectHost, workerId: string): Promise<void> {
  return host.services.duringAttempt(workerId, (attemptEnded) => runAttempt(host, workerId, attemptEnded));
}

async function runAttempt(host: ServiceEffectHost, workerId: string, attemptEnded: AbortSignal): Promise<void> {
  const worker = host.current().workers[workerId];
  if (worker === undefined) return;
  const attempt = worker.context.attempt;
  const approvalSource = worker.context.trustSource ?? 'overseer';
  const service = host.services.worker();
  // One try per attempt: the worker's service_error recipe retries the attempt, durably, with its back-off.
  const ran = await withServiceWorker(
    host,
    workerId,
    'run_worker',
    async (id) => {
      const marked = await service.markTrusted(id, approvalSource);
      if (!marked.ok) return marked;
      const { pid, logFile } = host.services.workerProcess();
      await host.commit([workerEvent(workerId, 'process.started', { pid, processStartTime: null, logFile, statusFile: '', attempt })]);
      // A run lasts as long as the work: no per-call limit. The packet's timeout, the machine's attempt
      // timer, ends the attempt and with it this call, so it is the worker's timeout, not a hung service.
      return service.runWorker(id, { timeoutMs: null, signal: attemptEnded });
    },
    1,
  );
  // The attempt ended first (timed out, cancelled): the machine has recorded why; a late answer belongs to no attempt.
  if (attemptEnded.aborted) return;
  if (!ran.ok) {
    await host.commit([workerEvent(workerId, 'service.failed', { method: ran.error.method ?? 'run_worker', detail: ran.error.message })]);
    return;
  }
  const outcome = ran.value;
  const done = !outcome.supported || outcome.reply.status === 'done';
  const said = outcome.supported ? (done ? 'done' : runFailureReason(outcome.reply)) : `done once trusted (no run_worker: ${outcome.reason})`;
  // The service's own words are kept; the outcome then goes through the machine like a process exit.
  await host.commit([
    workerEvent(workerId, 'service.run_reported', { status: done ? 'done' : 'failed', detail: said }),
    workerEvent(workerId, 'process.exited', { code: done ? 0 : 1, signal: null }),
  ]);
}
