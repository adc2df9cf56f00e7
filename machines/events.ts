/**
 * Every event the machines accept, as zod schemas: the runtime parses each payload with these before
 * it appends and again when it reads the log back, and the machines' event types are inferred from
 * them, so the catalogue and the machines cannot drift apart.
 */
import { z } from 'zod';
import { ESCALATIONS, FAILURE_KINDS } from './recovery.js';

const failureKind = z.enum(FAILURE_KINDS);

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
} as const;

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
