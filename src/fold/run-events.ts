/**
 * The envelope of everything the runtime writes: which machine an event is for, its zod-checked
 * payload, and the lifecycle events: the two that create machines (`run.started`, `worker.spawned`),
 * the one that delivers a due timer (`timer.fired`) and the one that moves a run to newer machine
 * definitions (`machines.migrated`).
 */
import { z } from 'zod';
import { recordEventSchemas, workerEventSchemas, workflowEventSchemas } from '../../machines/events.js';
import { FAILURE_KINDS, ESCALATIONS } from '../../machines/recovery.js';
import type { MachineKind } from '../store/event-store.js';
import { OverseerError } from '../errors.js';

export const recipeSchema = z.object({
  maxAttempts: z.number().int().positive(),
  initialDelayMs: z.number().nonnegative(),
  factor: z.number().positive(),
  maxDelayMs: z.number().nonnegative(),
  jitter: z.number().min(0).max(1),
  escalation: z.enum(ESCALATIONS),
});

/** A budget read into numbers (src/planning/agent-plan.ts). */
export const budgetSchema = z.object({
  tokens: z.number().positive().optional(),
  usd: z.number().positive().optional(),
  timeMs: z.number().int().positive().optional(),
});

/** Where the run's agent lanes work, and its budget (docs/agents.md). */
export const laneSettingsSchema = z.object({
  repo: z.string(),
  target: z.string(),
  budget: budgetSchema.nullable(),
  /** Epoch ms: when the run's time budget started counting. */
  startedAt: z.number().optional(),
});

export const runStartedSchema = z.object({
  runId: z.string(),
  objective: z.string(),
  cwd: z.string(),
  runDir: z.string(),
  machineVersion: z.string(),
  concurrency: z.number().int().positive(),
  /** The plan as given, so resume needs nothing but the log. */
  packets: z.array(z.looseObject({ id: z.string(), objective: z.string() })).nullable(),
  autoApprove: z.boolean(),
  workerCommand: z.string().nullable(),
  /** The trust policy in force, recorded so a resumed run decides as the original would have. */
  policy: z.object({ name: z.string(), policy: z.unknown() }).nullable().default(null),
  /** The seed's services, as typed after --planner, --bootstrap and --worker-service. */
  services: z
    .object({
      planner: z.string().nullable(),
      bootstrap: z.string().nullable(),
      workerService: z.string().nullable(),
      /** Per call; a worker's run_worker gets the packet's own timeout instead. */
      callTimeoutMs: z.number().int().positive().default(30_000),
    })
    .default({ planner: null, bootstrap: null, workerService: null, callTimeoutMs: 30_000 }),
  /** Bootstrap phases in order (a plan's `bootstrap:`, else the seed's two when a bootstrap service is given). */
  bootstrap: z.array(z.looseObject({ phase: z.string() })).default([]),
  /** Set on a run `overseer fork` made: the run and the global position (decimal) its state was taken at. */
  forkedFrom: z.object({ runId: z.string(), position: z.string() }).optional(),
  /** The repository and target branch of the run's agent lanes, and the run's budget; absent for a run without lanes. */
  lanes: laneSettingsSchema.optional(),
});
export type RunStarted = z.infer<typeof runStartedSchema>;

export const workerInputSchema = z.object({
  workerId: z.string(),
  timeoutMs: z.number().int().positive().nullable(),
  hasGates: z.boolean(),
  /** worker@2: an agent lane, merged after its gates. */
  lane: z.boolean().optional(),
  recipes: z.partialRecord(z.enum(FAILURE_KINDS), recipeSchema).optional(),
  seed: z.number().int(),
});

export type WorkerInput = z.infer<typeof workerInputSchema>;

const lifecycleSchemas = {
  'run.started': runStartedSchema,
  'worker.spawned': z.object({ input: workerInputSchema }),
  'timer.fired': z.object({ timerId: z.string(), event: z.looseObject({ type: z.string() }) }),
  /** `resume` moved the run from the versions it was folded with to this build's (docs/versions.md). */
  'machines.migrated': z.object({ from: z.string(), to: z.string() }),
} as const;

export interface RunEvent {
  type: string;
  payload: Record<string, unknown>;
  machine: MachineKind;
  workerId: string | null;
}

export class InvalidEventError extends OverseerError {
  readonly code = 'INVALID_EVENT' as const;
}

export function isRecordEvent(type: string): boolean {
  return type in recordEventSchemas;
}

function schemaFor(event: RunEvent): z.ZodType | undefined {
  if (event.type in lifecycleSchemas) return lifecycleSchemas[event.type as keyof typeof lifecycleSchemas];
  if (isRecordEvent(event.type)) return recordEventSchemas[event.type as keyof typeof recordEventSchemas];
  const table: Record<string, z.ZodType> = event.machine === 'workflow' ? workflowEventSchemas : workerEventSchemas;
  return table[event.type];
}

/** Checks an event's payload against the catalogue; throws InvalidEventError naming the type and path. */
export function parseRunEvent(event: RunEvent): RunEvent {
  const schema = schemaFor(event);
  if (schema === undefined) throw new InvalidEventError(`unknown ${event.machine} event type "${event.type}"`);
  const parsed = schema.safeParse(event.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidEventError(`event ${event.type}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
  }
  return { ...event, payload: parsed.data as Record<string, unknown> };
}
