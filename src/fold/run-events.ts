/**
 * The envelope of everything the runtime writes: which machine an event is for, its zod-checked
 * payload, and the lifecycle events: the two that create machines (`run.started`, `worker.spawned`),
 * the one that delivers a due timer (`timer.fired`) and the one that moves a run to newer machine
 * definitions (`machines.migrated`).
 */
import * as z from 'zod';
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
export type Budget = z.infer<typeof budgetSchema>;

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
  return parsePayload(event, schema);
}

function parsePayload(event: RunEvent, schema: z.ZodType): RunEvent {
  const parsed = schema.safeParse(event.payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidEventError(`event ${event.type}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
  }
  return { ...event, payload: parsed.data as Record<string, unknown> };
}

/** Schema kinds whose parse, given a value it accepted, returns an equal value: they only check. */
const CHECKING_KINDS = new Set(['string', 'number', 'boolean', 'null', 'unknown', 'any', 'enum', 'literal']);

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  checks?: { _zod: { def: { check: string } } }[];
}

/**
 * True when parsing a payload this schema already parsed can only give it back unchanged: nothing in
 * it fills in a default, transforms, catches or rewrites a value. Unknown kinds count as changing.
 */
export function returnsInput(schema: z.ZodType): boolean {
  const def = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  if (def.checks?.some((check) => check._zod.def.check === 'overwrite') === true) return false;
  const inner = [
    ...Object.values(def.shape ?? {}),
    ...[def.catchall, def.element, def.innerType, def.keyType, def.valueType].filter((child) => child !== undefined),
    ...(def.options ?? []),
  ];
  switch (def.type) {
    case 'object':
    case 'array':
    case 'nullable':
    case 'optional':
    case 'record':
    case 'union':
      return inner.every(returnsInput);
    default:
      return CHECKING_KINDS.has(def.type);
  }
}

/** Per machine, each event type's schema and whether it only checks (see storedRunEvent). */
const storedSchemas = new Map<MachineKind, Map<string, { schema: z.ZodType; checksOnly: boolean }>>(
  (['workflow', 'worker'] as const).map((machine) => {
    const table: Record<string, z.ZodType> = { ...(machine === 'workflow' ? workflowEventSchemas : workerEventSchemas), ...recordEventSchemas, ...lifecycleSchemas };
    return [machine, new Map(Object.entries(table).map(([type, schema]) => [type, { schema, checksOnly: returnsInput(schema) }]))];
  }),
);

/**
 * An event read back from the store, ready to fold. Nothing is appended that parseRunEvent did not
 * accept (every writer builds its batches through it, and `import` replays a file with 'outside'
 * before it writes), so parsing such a payload again only repeats a verdict already given — a sixth
 * of a full fold's time. Payloads whose schema only checks are therefore taken as stored; those whose
 * schema fills in defaults (run.started, plan.ready, bootstrap.completed) are parsed again, so a log
 * written before a default existed still reads with it. Unknown types are refused as by parseRunEvent.
 */
export function storedRunEvent(event: RunEvent): RunEvent {
  const known = storedSchemas.get(event.machine)?.get(event.type);
  if (known === undefined) throw new InvalidEventError(`unknown ${event.machine} event type "${event.type}"`);
  return known.checksOnly ? event : parsePayload(event, known.schema);
}
