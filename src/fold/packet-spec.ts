/**
 * The fields of a task packet the runtime acts on. Packets travel as loose objects (services may rely
 * on any field), so this reads just what running a worker needs and leaves the rest untouched.
 */
import { join } from 'node:path';
import * as z from 'zod';
import { areDefaultRecipes, FAILURE_KINDS } from '../../machines/recovery.js';
import { recipeSchema } from './run-events.js';
import { lanePlace } from '../workers/lane-paths.js';

export const packetSpecSchema = z.looseObject({
  id: z.string(),
  objective: z.string(),
  command: z.string().optional(),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  timeoutMs: z.number().int().positive().optional(),
  trusted: z.boolean().optional(),
  gates: z.array(z.unknown()).optional(),
  /** An agent lane's agent (docs/agents.md): the agent kind runs it, in a git worktree. */
  agent: z.unknown().optional(),
  recipes: z.partialRecord(z.enum(FAILURE_KINDS), recipeSchema).optional(),
});
export type PacketSpec = z.infer<typeof packetSpecSchema>;

/** A packet as workers see it: everything the plan said, without Overseer's own resolved recipes. */
export function workerPacket(packet: Record<string, unknown>): Record<string, unknown> {
  const { recipes: _recipes, ...rest } = packet;
  return rest;
}

/**
 * The packet as a run records it: recipes that are all the defaults are left out, since a worker
 * spawned without recipes gets the defaults. They were 1.3 KB of every packet, carried in run.started,
 * plan.ready and each worker.spawned, and most plans never change them.
 */
export function recordedPacket<P extends Record<string, unknown>>(packet: P): P {
  const { recipes, ...rest } = packet;
  return typeof recipes === 'object' && recipes !== null && areDefaultRecipes(recipes) ? (rest as P) : packet;
}

// A run's packets never change once planned: each is read once, not on every trust decision and spawn.
const parsed = new WeakMap<object, PacketSpec>();

/** The runtime's reading of one of the run's packets. */
export function packetOf(state: { packets: Record<string, unknown> }, taskId: string): PacketSpec {
  const packet = state.packets[taskId];
  const known = typeof packet === 'object' && packet !== null ? parsed.get(packet) : undefined;
  if (known !== undefined) return known;
  const spec = Object.freeze(packetSpecSchema.parse(packet));
  if (typeof packet === 'object' && packet !== null) parsed.set(packet, spec);
  return spec;
}

/**
 * Where a packet's command and gates run: an agent lane's worktree (its `cwd` inside it), else its
 * `cwd` under the run's directory, or that directory.
 */
export function packetCwd(run: { runId: string; cwd: string; lanes?: { repo: string } | undefined }, packet: PacketSpec): string {
  const base = packet.agent !== undefined && run.lanes !== undefined ? lanePlace(run.lanes.repo, run.runId, packet.id).worktree : run.cwd;
  return packet.cwd === undefined ? base : join(base, packet.cwd);
}
