/**
 * A task packet: one unit of work for one worker. Overseer reads its own fields; Claw Code's fields
 * are kept untouched, because worker services may rely on them. Any other key depends on who wrote
 * the packet: in a file a person wrote it is most likely a typo (`recipes:` for `recovery:`) and is
 * refused; in a packet a planner service returned it is the service's own field and is kept.
 */
import * as z from 'zod';
import type { RecoveryRecipes } from '../../machines/recovery.js';
import { DURATION_HINT, parseDuration } from '../os/duration.js';
import { LANE_PACKET_FIELDS } from './agent-plan.js';

export const PACKET_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Ordered lowest first: a packet that requires a level needs every gate up to it green. */
export const GATE_LEVELS = ['targeted_tests', 'package', 'workspace', 'merge_ready'] as const;
export type GateLevel = (typeof GATE_LEVELS)[number];

export const CLAW_CODE_SCOPES = ['workspace', 'module', 'single_file', 'custom'] as const;
export type ClawCodeScope = (typeof CLAW_CODE_SCOPES)[number];

export const Duration = z.custom<string | number>(
  (value) => (typeof value === 'string' || typeof value === 'number') && parseDuration(value) !== null,
  { error: `expected ${DURATION_HINT}` },
);

/** Keeps the duration as written (for people and events) and adds `timeoutMs` (for timers). */
function withTimeoutMs<T extends { timeout?: string | number | undefined }>(value: T): T & { timeoutMs?: number } {
  if (value.timeout === undefined) return value;
  const timeoutMs = parseDuration(value.timeout);
  return timeoutMs === null ? value : { ...value, timeoutMs };
}

/**
 * The most one argument may hold on Linux (MAX_ARG_STRLEN, 128 KiB with its final NUL). A command is
 * handed to the shell as one argument, so a longer one could never start: refused here, up front.
 */
export const MAX_COMMAND_BYTES = 128 * 1024 - 1;

const Command = z
  .string()
  .min(1)
  .superRefine((command, ctx) => {
    const bytes = Buffer.byteLength(command);
    if (bytes <= MAX_COMMAND_BYTES) return;
    ctx.addIssue({
      code: 'custom',
      message: `${String(bytes)} bytes, more than one argument can hold (${String(MAX_COMMAND_BYTES)}); run a long command from a script file`,
    });
  });

/** `reject`: a key Overseer does not know is a problem in the plan; `keep`: it is passed through. */
export type UnknownKeys = 'reject' | 'keep';

const GATE_FIELDS = {
  name: z.string().min(1).optional(),
  command: Command,
  level: z.enum(GATE_LEVELS).default('targeted_tests'),
  timeout: Duration.optional(),
};

/** A bare string is a gate command at the lowest level. */
function qualityGate(unknownKeys: UnknownKeys) {
  const fields = unknownKeys === 'reject' ? z.strictObject(GATE_FIELDS) : z.looseObject(GATE_FIELDS);
  return z.preprocess((value) => (typeof value === 'string' ? { command: value } : value), fields.transform(withTimeoutMs));
}

/** A gate as read; one from a planner may carry keys of its own. */
export type QualityGate = z.infer<ReturnType<typeof qualityGate>>;

/** YAML writes `PORT: 8080` as a number; a process environment only holds strings. */
const EnvValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'expected a string' })
  .transform((value) => String(value));

/** The packet's fields before `timeoutMs` is derived; plan defaults are a partial of these. */
const PACKET_FIELDS = {
  id: z
    .string()
    .regex(PACKET_ID_PATTERN, { error: 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"' })
    .optional(),
  objective: z.string().refine((text) => text.trim() !== '', { error: 'must not be empty' }),
  dependsOn: z.array(z.string().min(1)).optional(),
  command: Command.optional(),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), EnvValue).optional(),
  timeout: Duration.optional(),
  /** Accepted as written by a planner that already speaks milliseconds; `timeout` wins over it. */
  timeoutMs: z.number().int().positive().optional(),
  trusted: z.boolean().optional(),
  /** The level the packet must reach; the highest level among its gates when not given. */
  green_level: z.enum(GATE_LEVELS).optional(),
  /** Recipe overrides in the plan author's words; recovery-recipe.ts checks them and resolves `recipes`. */
  recovery: z.unknown().optional(),
  /** An agent lane: its agent, budget and merge mode (agent-plan.ts, docs/agents.md). */
  ...LANE_PACKET_FIELDS,

  // Claw Code's task-packet fields. Only `scope` has a closed set of values; the rest travel to the
  // worker as given.
  scope: z.enum(CLAW_CODE_SCOPES).optional(),
  scope_path: z.string().optional(),
  repo: z.unknown().optional(),
  worktree: z.unknown().optional(),
  branch_policy: z.unknown().optional(),
  acceptance_tests: z.unknown().optional(),
  acceptance_criteria: z.unknown().optional(),
  commit_policy: z.unknown().optional(),
  reporting_contract: z.unknown().optional(),
  escalation_policy: z.unknown().optional(),
  recovery_policy: z.unknown().optional(),
  verification_plan: z.unknown().optional(),
};

/** The packet's fields, its gates read the same way as its own keys. */
function taskPacketFields(unknownKeys: UnknownKeys) {
  const shape = { ...PACKET_FIELDS, gates: z.array(qualityGate(unknownKeys)).optional() };
  // Typed as the loose object in both cases: a strict one's output is the same minus the extra keys.
  return unknownKeys === 'reject' ? (z.strictObject(shape) as unknown as z.ZodObject<typeof shape, z.core.$loose>) : z.looseObject(shape);
}
type TaskPacketFields = z.infer<ReturnType<typeof taskPacketFields>>;

/**
 * A required level no gate reaches could never be shown green, and two gates of one name would share
 * a log file: both are mistakes in the plan, reported where they were written.
 */
function checkGreenContract(packet: TaskPacketFields, ctx: z.core.$RefinementCtx): void {
  const gates = packet.gates ?? [];
  const required = packet.green_level;
  if (required !== undefined && !gates.some((gate) => gate.level === required)) {
    const levels = GATE_LEVELS.filter((level) => gates.some((gate) => gate.level === level));
    const have = levels.length === 0 ? 'this packet has no gates' : `its gates are at ${levels.join(', ')}`;
    ctx.addIssue({ code: 'custom', path: ['green_level'], message: `no gate at level ${required} (${have})` });
  }
  const seen = new Set<string>();
  gates.forEach((gate, index) => {
    if (gate.name === undefined) return;
    if (seen.has(gate.name)) ctx.addIssue({ code: 'custom', path: ['gates', index, 'name'], message: `duplicate gate name "${gate.name}"` });
    seen.add(gate.name);
  });
}

function taskPacketSchemas(unknownKeys: UnknownKeys) {
  const fields = taskPacketFields(unknownKeys);
  return { fields, packet: fields.superRefine(checkGreenContract).transform(withTimeoutMs) };
}

/** A packet's schemas (`fields` for plan defaults, `packet` for a packet) for each way of treating unknown keys. */
export const TASK_PACKET_SCHEMAS = { reject: taskPacketSchemas('reject'), keep: taskPacketSchemas('keep') } as const;
export type TaskPacket = z.infer<typeof TASK_PACKET_SCHEMAS.keep.packet>;

/**
 * A packet inside a parsed plan: defaults applied, id resolved, dependencies listed, and its recovery
 * recipe for every failure kind resolved (built-in ← plan defaults ← packet).
 */
export type ResolvedTaskPacket = TaskPacket & { id: string; dependsOn: string[]; recipes: RecoveryRecipes };
