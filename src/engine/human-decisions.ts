/**
 * The events a person's decision becomes: approve or deny at a trust gate, retry or give up on a
 * failure escalated to a human, cancel a run. Each names who decided, from where, and why.
 */
import type { RunEvent } from '../fold/run-events.js';
import type { RunState } from '../fold/run-state.js';
import { NotApplicableError } from './write-to-run.js';

export interface Decider {
  by: string;
  /** Where the decision was made: `cli`, `web`. */
  source: string;
  reason?: string | undefined;
}

function who(decider: Decider): Record<string, unknown> {
  return { by: decider.by, source: decider.source, ...(decider.reason === undefined ? {} : { reason: decider.reason }) };
}

/** Approve (or deny) a worker waiting at its trust gate, or retry (or give up on) an escalated one. */
export function approvalEvent(state: RunState, workerId: string, approve: boolean, decider: Decider): RunEvent {
  const worker = state.workers[workerId];
  if (worker === undefined) {
    const known = Object.keys(state.workers);
    throw new NotApplicableError(`run ${state.run.runId} has no worker ${workerId}${known.length === 0 ? '' : ` (workers: ${known.join(', ')})`}`);
  }
  const payload = who(decider);
  if (worker.value === 'awaitingTrust') return { type: approve ? 'trust.approved' : 'trust.denied', machine: 'worker', workerId, payload };
  if (worker.value === 'escalated') return { type: approve ? 'human.retry' : 'human.abandon', machine: 'worker', workerId, payload };
  throw new NotApplicableError(`worker ${workerId} of run ${state.run.runId} is ${String(worker.value)}, not waiting for approval`);
}

export function cancelEvent(state: RunState, decider: Decider): RunEvent {
  if (state.workflow.status === 'done') throw new NotApplicableError(`run ${state.run.runId} is already ${String(state.workflow.value)}`);
  return { type: 'run.cancel', machine: 'workflow', workerId: null, payload: { by: decider.by, reason: decider.reason ?? 'cancelled from the command line' } };
}
