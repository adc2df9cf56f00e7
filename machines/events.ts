/**
 * Every event the machines accept, as zod schemas: the runtime parses each payload with these before
 * it appends and again when it reads the log back, and the machines' event types are inferred from
 * them, so the catalogue and the machines cannot drift apart.
 */
import * as z from 'zod';
import { ESCALATIONS, FAILURE_KINDS } from './recovery.js';

const failureKind = z.enum(FAILURE_KINDS);

/** How a lane's branch goes into its target: a merge commit, one squashed commit, or not at all. */
export const LANE_MERGE_MODES = ['merge', 'squash', 'none'] as const;

const trustDecision = z.enum(['trust', 'ask', 'deny']);
const outcome = z.enum(['done', 'failed', 'denied', 'cancelled']);

/** A planned task as the workflow sees it; the whole packet rides along untouched. */
export const plannedTaskSchema = z.looseObject({ id: z.string().min(1), dependsOn: z.array(z.string()).default([]) });

export const workflowEventSchemas = {
  'plan.ready': z.object({ packets: z.array(plannedTaskSchema).min(1) }),
  'plan.failed': z.object({ reason: z.string() }),
  'bootstrap.completed': z.object({ phases: z.array(z.string()), artifacts: z.record(z.string(), z.unknown()).default({}) }),
  'bootstrap.failed': z.object({ phase: z.string(), reason: z.string() }),
  'task.finished': z.object({
    taskId: z.string(),
    outcome,
    escalation: z.enum(ESCALATIONS).nullable(),
    detail: z.string().nullable(),
  }),
  'run.cancel': z.object({ by: z.string(), reason: z.string() }),
} as const;

export const workerProcessSchema = z.object({
  pid: z.number().int(),
  processStartTime: z.string().nullable(),
  logFile: z.string(),
  statusFile: z.string(),
});

/** Provenance of a quality gate's verdict: what ran, how it ended, where its output is. */
const gateResult = z.object({
  gate: z.string(),
  level: z.string(),
  command: z.string(),
  exitCode: z.number().int().nullable(),
  logFile: z.string().nullable(),
});

export const workerEventSchemas = {
  'trust.decided': z.object({ decision: trustDecision, source: z.string() }),
  'trust.approved': z.object({ by: z.string(), source: z.string(), reason: z.string().optional() }),
  'trust.denied': z.object({ by: z.string(), source: z.string(), reason: z.string().optional() }),
  /** `host`: where the process runs (OVERSEER_HOST_ID or the hostname); absent in logs written before it was recorded. */
  'process.started': workerProcessSchema.extend({ attempt: z.number().int().positive(), host: z.string().optional() }),
  'process.spawn_failed': z.object({ error: z.string() }),
  'process.exited': z.object({ code: z.number().int().nullable(), signal: z.string().nullable() }),
  'worker.lost': z.object({ detail: z.string() }),
  'gate.passed': gateResult,
  'gates.passed': z.object({}),
  'gates.failed': gateResult.extend({ detail: z.string() }),
  'worker.cancel': z.object({ reason: z.string() }),
  /** The worker service failed this worker's call after its retries (crashed, hung, bad reply). */
  'service.failed': z.object({ method: z.string(), detail: z.string() }),
  'human.retry': z.object({ by: z.string(), source: z.string(), reason: z.string().optional() }),
  'human.abandon': z.object({ by: z.string(), source: z.string(), reason: z.string().optional() }),
  /** worker@2: an agent lane (or its run) passed a budget; the lane's process tree was stopped. */
  'budget.exceeded': z.object({
    scope: z.enum(['lane', 'run']),
    measure: z.enum(['tokens', 'usd', 'time']),
    used: z.number(),
    limit: z.number(),
  }),
  /** worker@2: the lane's branch is in its target (`commit`: the target's new head; null for `merge: none`). */
  'lane.merged': z.object({ mode: z.enum(LANE_MERGE_MODES), target: z.string(), commit: z.string().nullable() }),
  /** worker@2: the lane's branch does not rebase onto its target; the rebase is left for a person in the worktree. */
  'lane.conflicted': z.object({ target: z.string(), detail: z.string(), files: z.array(z.string()) }),
} as const;

/** Usage as agents report it, summed over a lane's attempts (tokens = input + output). */
export const laneUsageSchema = z.object({
  tokens: z.number().nonnegative(),
  inputTokens: z.number().nonnegative(),
  outputTokens: z.number().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type LaneUsage = z.infer<typeof laneUsageSchema>;

/**
 * Records of what the worker machine decided, announced by it and kept in the log for people
 * (recovery.attempted / succeeded / exhausted / escalated; docs/policies-gates-recovery.md). They are
 * not inputs: the fold checks and keeps them without feeding them back to the machine.
 */
export const recordEventSchemas = {
  'recovery.attempted': z.object({ kind: failureKind, attempt: z.number().int(), delayMs: z.number() }),
  'recovery.succeeded': z.object({ attempts: z.number().int() }),
  'recovery.exhausted': z.object({ kind: failureKind, attempts: z.number().int(), escalation: z.enum(ESCALATIONS).nullable() }),
  escalated: z.object({ kind: failureKind, escalation: z.enum(ESCALATIONS) }),
  /** One failed call to a service (it is restarted and the call retried while attempts are left). */
  'service.error': z.object({
    service: z.string(),
    method: z.string(),
    attempt: z.number().int(),
    code: z.string(),
    message: z.string(),
    retryInMs: z.number().nullable(),
  }),
  /** Written before `spawn_worker` is sent, so the log shows a request a crash left unanswered. */
  'service.spawn_requested': z.object({ packetId: z.string() }),
  'service.worker_spawned': z.object({ serviceWorkerId: z.union([z.string(), z.number()]) }),
  /** What the worker service said about trust and the run of a worker (provenance of the next events). */
  'service.trust_checked': z.object({ requiresApproval: z.boolean() }),
  'service.run_reported': z.object({ status: z.enum(['done', 'failed']), detail: z.string() }),

  // Agent lanes (docs/agents.md): what the lane did to the repository, and what the agent said.
  'lane.worktree_created': z.object({ path: z.string(), branch: z.string(), base: z.string(), target: z.string() }),
  /** Overseer committed what the agent left uncommitted (null commit: nothing was left). */
  'lane.committed': z.object({ commit: z.string().nullable(), head: z.string() }),
  /** The lane's base went stale (the target moved): its branch was rebased onto the target. */
  'lane.rebased': z.object({ onto: z.string(), head: z.string() }),
  /** The merge waits: the checkout holding the target has changes of its own. */
  'lane.merge_waiting': z.object({ reason: z.string() }),
  'lane.worktree_removed': z.object({ path: z.string(), branchKept: z.boolean() }),
  'agent.session': z.object({ attempt: z.number().int(), sessionId: z.string() }),
  /**
   * Usage of the attempt so far (cumulative), read from the agent's output up to byte `offset` of its
   * captured output: a resumed engine reads on from there.
   */
  'agent.usage': laneUsageSchema.extend({ attempt: z.number().int(), turns: z.number().int().nonnegative(), offset: z.number().int().nonnegative() }),
  'agent.result': z.object({ attempt: z.number().int(), isError: z.boolean(), text: z.string() }),
} as const;

type EventUnion<S extends Record<string, z.ZodType>> = {
  [K in keyof S & string]: { type: K } & z.infer<S[K]>;
}[keyof S & string];

export type WorkflowEvent = EventUnion<typeof workflowEventSchemas>;
export type WorkerEvent = EventUnion<typeof workerEventSchemas>;
export type TrustDecision = z.infer<typeof trustDecision>;
export type WorkerOutcome = z.infer<typeof outcome>;
export type WorkerProcess = z.infer<typeof workerProcessSchema>;
export type PlannedTask = z.infer<typeof plannedTaskSchema>;
