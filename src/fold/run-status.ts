/** A run's status and task counts, derived from its folded state (never stored as the truth). */
import { isFinalWorkflowState, isWaitingWorkerState } from '../../machines/state-sets.js';
import type { RunStatus } from '../store/event-store.js';
import type { RunState } from './run-state.js';
import type { LaneUsage } from '../../machines/events.js';
import { runUsage, type LaneRecord } from './lane-record.js';
import type { LaneBudget } from '../planning/agent-repository.js';
import { stateText } from './state-value.js';

export function deriveRunStatus(state: RunState): RunStatus {
  // The fold keeps both worker counts as workers change (see run-state.ts).
  return runStatusOf(stateText(state.workflow.value), state.activeWorkers, state.heldWorkers);
}

/**
 * A run's status from its workflow state and its workers: `active` are those not in a final state,
 * `held` those of them waiting for a person. The viewer counts them from the log's recorded states.
 */
export function runStatusOf(workflowState: string, activeWorkers: number, heldWorkers: number): RunStatus {
  // An ended run's status is the workflow's final state (test/machines/state-sets.test.ts holds them to RUN_STATUSES).
  if (isFinalWorkflowState(workflowState)) return workflowState as RunStatus;
  // Nothing can move until a person answers: a trust gate, or a failure escalated to a human.
  if (activeWorkers > 0 && heldWorkers === activeWorkers) return 'waiting';
  return 'running';
}

export interface WorkerSummary {
  workerId: string;
  state: string;
  attempt: number;
  failure: string | null;
  logFile: string | null;
  /** Agent lanes only: tokens (in + out), tokens in and out, cost in US dollars, summed over attempts. */
  usage?: LaneUsage;
  /** Agent lanes only: where it works, what it started from, its budget and how its merge went. */
  lane?: LaneSummary;
}

export interface LaneSummary {
  branch: string | null;
  base: string | null;
  head: string | null;
  worktree: string | null;
  target: string | null;
  sessionId: string | null;
  turns: number;
  budget: LaneBudget | null;
  merge: LaneRecord['merge'];
}

export interface RunSummary {
  runId: string;
  status: RunStatus;
  workflow: string;
  objective: string;
  reason: string | null;
  tasks: { total: number } & Record<string, number>;
  workers: WorkerSummary[];
  /** Runs with agent lanes: every lane's usage added up, and the run's budget. */
  usage?: LaneUsage;
  budget?: LaneBudget | null;
}

function laneSummary(lane: LaneRecord, packet: Record<string, unknown> | undefined): LaneSummary {
  const budget = (packet?.['budget'] as LaneSummary['budget'] | undefined) ?? null;
  const { branch, base, head, worktree, target, sessionId, turns, merge } = lane;
  return { branch, base, head, worktree, target, sessionId, turns, budget, merge };
}

/** The workers a person can answer (approve or deny, retry or give up), in the summary's order. */
export function waitingWorkers(summary: RunSummary): string[] {
  return summary.workers.filter((w) => isWaitingWorkerState(w.state)).map((w) => w.workerId);
}

export function summarizeRun(state: RunState): RunSummary {
  const tasks: { total: number } & Record<string, number> = { total: state.workflow.context.tasks.size };
  for (const task of state.workflow.context.tasks.entries()) tasks[task.status] = (tasks[task.status] ?? 0) + 1;
  return {
    runId: state.run.runId,
    status: deriveRunStatus(state),
    workflow: String(state.workflow.value),
    objective: state.run.objective,
    reason: state.workflow.context.reason,
    tasks,
    workers: Object.entries(state.workers).map(([workerId, w]) => {
      const lane = state.lanes[workerId];
      return {
        workerId,
        state: String(w.value),
        attempt: w.context.attempt,
        failure: w.context.failure === null ? null : `${w.context.failure.kind}: ${w.context.failure.detail}`,
        logFile: w.context.process?.logFile ?? null,
        ...(lane === undefined ? {} : { usage: lane.usage, lane: laneSummary(lane, state.packets[workerId]) }),
      };
    }),
    ...(state.run.lanes === undefined ? {} : { usage: runUsage(state.lanes), budget: state.run.lanes.budget }),
  };
}
