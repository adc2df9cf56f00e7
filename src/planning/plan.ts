/**
 * A plan: task packets plus what applies to all of them. `parsePlan` checks a plan completely and
 * reports every problem at once, each with its path, so a person fixes their file in one pass.
 */
import * as z from 'zod';
import { checkPolicy } from './policy-rules.js';
import {
  formatPath,
  planErrorMessages,
  problemsFromIssues,
  type PlanPath,
  type PlanProblem,
} from './plan-problem.js';
import { resolveRecipes } from './recovery-recipe.js';
import { LANE_PLAN_FIELDS, type Budget } from './agent-plan.js';
import { TASK_PACKET_SCHEMAS, type ResolvedTaskPacket, type UnknownKeys } from './task-packet.js';
import { dependencyCycles } from './topological-order.js';

export { formatProblems, type PlanProblem } from './plan-problem.js';

/** A phase name, or an object naming the phase with whatever else the bootstrap service wants. */
export const BootstrapPhase = z.preprocess(
  (value) => (typeof value === 'string' ? { phase: value } : value),
  z.looseObject({ phase: z.string().min(1) }, { error: 'expected a phase name or an object with a phase' }),
);
export type BootstrapPhase = z.infer<typeof BootstrapPhase>;

export const PlanPolicy = z.union([z.string().min(1), z.looseObject({})], {
  error: 'expected trust rules (an object) or the path of a policy file',
});
export type PlanPolicy = z.infer<typeof PlanPolicy>;

/** Each packet and `defaults` are checked on their own, so their problems keep exact paths. */
export const PlanFile = z.strictObject({
  objective: z.string().optional(),
  packets: z.array(z.unknown()).min(1),
  defaults: z.unknown().optional(),
  policy: PlanPolicy.optional(),
  bootstrap: z.array(BootstrapPhase).optional(),
  concurrency: z.number().int().positive().optional(),
  ...LANE_PLAN_FIELDS,
});

const PLAN_KEYS = Object.keys(PlanFile.shape).join(', ');

/** Per-packet fields only: one id or one dependency list for every packet makes no sense. */
function packetDefaults(unknownKeys: UnknownKeys) {
  return TASK_PACKET_SCHEMAS[unknownKeys].fields.partial().extend({
    id: z.undefined({ error: 'set ids on packets, not in defaults' }).optional(),
    dependsOn: z.undefined({ error: 'set dependsOn on packets, not in defaults' }).optional(),
  });
}
const PACKET_DEFAULTS = { reject: packetDefaults('reject'), keep: packetDefaults('keep') } as const;

export interface PlanOptions {
  /**
   * Keys Overseer does not know, at any depth: refused (`reject`, the default) in a plan a person
   * wrote, where one is most likely a typo; kept (`keep`) in packets a planner service returned, which
   * worker services may rely on.
   */
  unknownKeys?: UnknownKeys;
}

export interface Plan {
  /** Where the plan came from (a file path, `command line`, a planner), for messages and events. */
  source: string;
  objective?: string;
  packets: ResolvedTaskPacket[];
  policy?: PlanPolicy;
  bootstrap?: BootstrapPhase[];
  concurrency?: number;
  /** Agent lanes: the repository and target branch as written (resolved by agent-repository.ts), the run's budget. */
  repo?: string;
  target?: string;
  budget?: Budget;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; problems: PlanProblem[] };

type RawObject = Record<string, unknown>;

function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parsePlan(value: unknown, source: string, options: PlanOptions = {}): PlanResult {
  const unknownKeys = options.unknownKeys ?? 'reject';
  if (!isObject(value)) {
    const got = value === null || value === undefined ? 'nothing' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    return { ok: false, problems: [{ path: '', message: `expected a plan (an object with packets), got ${got}` }] };
  }
  const problems: PlanProblem[] = [];
  const top = PlanFile.safeParse(value, { error: planErrorMessages });
  if (!top.success) {
    problems.push(...problemsFromIssues(top.error.issues, [], `unknown key (a plan has ${PLAN_KEYS})`));
  }

  // Trust rules written in the plan are part of it: their problems are reported with the plan's.
  const policy = value['policy'];
  if (isObject(policy)) {
    const checked = checkPolicy(policy, ['policy']);
    if (!checked.ok) problems.push(...checked.problems);
  }

  const defaults = readDefaults(value['defaults'], unknownKeys, problems);
  const defaultRecovery = readDefaultRecovery(defaults, problems);
  const rawPackets = Array.isArray(value['packets']) ? value['packets'] : [];
  const packets: ResolvedTaskPacket[] = [];
  const nodes: GraphNode[] = [];
  rawPackets.forEach((raw: unknown, index) => {
    const path: PlanPath = ['packets', index];
    if (!isObject(raw)) {
      problems.push({ path: formatPath(path), message: 'expected a task packet (an object with an objective)' });
      return;
    }
    const merged = applyDefaults(raw, defaults);
    nodes.push(graphNode(merged, index));
    const parsed = TASK_PACKET_SCHEMAS[unknownKeys].packet.safeParse(merged, { error: planErrorMessages });
    const recipes = resolveRecipes(defaultRecovery, raw['recovery'], { defaults: ['defaults', 'recovery'], packet: [...path, 'recovery'] });
    if (!parsed.success) problems.push(...problemsFromIssues(parsed.error.issues, path));
    if (!recipes.ok) problems.push(...recipes.problems);
    if (!parsed.success || !recipes.ok) return;
    const { id, dependsOn, ...fields } = parsed.data;
    packets.push({ id: id ?? defaultId(index), ...fields, dependsOn: dependsOn ?? [], recipes: recipes.recipes });
  });
  problems.push(...dependencyProblems(nodes));

  if (problems.length > 0 || !top.success) return { ok: false, problems: inFileOrder(problems) };
  const plan: Plan = { source, packets };
  if (top.data.objective !== undefined) plan.objective = top.data.objective;
  if (top.data.policy !== undefined) plan.policy = top.data.policy;
  if (top.data.bootstrap !== undefined) plan.bootstrap = top.data.bootstrap;
  if (top.data.concurrency !== undefined) plan.concurrency = top.data.concurrency;
  if (top.data.repo !== undefined) plan.repo = top.data.repo;
  if (top.data.target !== undefined) plan.target = top.data.target;
  if (top.data.budget !== undefined) plan.budget = top.data.budget;
  return { ok: true, plan };
}

/** Plan-level problems first, then packet by packet; within a packet, schema before dependencies. */
function inFileOrder(problems: PlanProblem[]): PlanProblem[] {
  const packetIndex = (p: PlanProblem): number => Number(/^packets\[(\d+)\]/.exec(p.path)?.[1] ?? -1);
  return problems
    .map((problem, order) => ({ problem, order, packet: packetIndex(problem) }))
    .sort((a, b) => a.packet - b.packet || a.order - b.order)
    .map((entry) => entry.problem);
}

function defaultId(index: number): string {
  return `task-${String(index + 1)}`;
}

/**
 * Defaults are merged as written and each packet is then parsed whole, so `timeout` and friends are
 * derived once. Keys of `defaults` that are wrong are reported once, under `defaults`, and left out
 * of the merge rather than reported again for every packet.
 */
function readDefaults(raw: unknown, unknownKeys: UnknownKeys, problems: PlanProblem[]): RawObject {
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    problems.push({ path: 'defaults', message: 'expected an object of packet fields' });
    return {};
  }
  const parsed = PACKET_DEFAULTS[unknownKeys].safeParse(raw, { error: planErrorMessages });
  if (parsed.success) return raw;
  problems.push(...problemsFromIssues(parsed.error.issues, ['defaults']));
  const bad = new Set(parsed.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys : [issue.path[0]])));
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !bad.has(key)));
}

/** Checked once, here, so a bad default recipe is not reported again for every packet. */
function readDefaultRecovery(defaults: RawObject, problems: PlanProblem[]): unknown {
  const recovery = defaults['recovery'];
  const checked = resolveRecipes(recovery, undefined);
  if (checked.ok) return recovery;
  problems.push(...checked.problems);
  return undefined;
}

/** A packet's own value wins; `env` maps merge, the packet's variables over the defaults'. */
function applyDefaults(packet: RawObject, defaults: RawObject): RawObject {
  const merged: RawObject = { ...defaults, ...packet };
  const defaultEnv = defaults['env'];
  const packetEnv = packet['env'];
  if (isObject(defaultEnv) && isObject(packetEnv)) merged['env'] = { ...defaultEnv, ...packetEnv };
  return merged;
}

interface GraphNode {
  index: number;
  id: string;
  dependsOn: { id: string; at: number }[];
}

/** Read leniently, so dependency problems are found even in a packet with schema problems. */
function graphNode(packet: RawObject, index: number): GraphNode {
  const id = typeof packet['id'] === 'string' ? packet['id'] : defaultId(index);
  const deps = Array.isArray(packet['dependsOn']) ? (packet['dependsOn'] as unknown[]) : [];
  const dependsOn = deps.flatMap((dep, at) => (typeof dep === 'string' && dep !== '' ? [{ id: dep, at }] : []));
  return { index, id, dependsOn };
}

function dependencyProblems(nodes: readonly GraphNode[]): PlanProblem[] {
  const problems: PlanProblem[] = [];
  const firstIndex = new Map<string, number>();
  for (const node of nodes) {
    const first = firstIndex.get(node.id);
    if (first === undefined) firstIndex.set(node.id, node.index);
    else
      problems.push({
        path: formatPath(['packets', node.index, 'id']),
        message: `duplicate id "${node.id}" (first used by packets[${String(first)}])`,
      });
  }
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      const path = formatPath(['packets', node.index, 'dependsOn', dep.at]);
      if (dep.id === node.id) problems.push({ path, message: `packet "${node.id}" depends on itself` });
      else if (!firstIndex.has(dep.id)) problems.push({ path, message: `unknown packet "${dep.id}"` });
    }
  }
  const edges = nodes.map((n) => ({ id: n.id, dependsOn: n.dependsOn.map((d) => d.id).filter((d) => d !== n.id) }));
  for (const cycle of dependencyCycles(edges)) {
    const start = cycle[0] ?? '';
    problems.push({
      path: formatPath(['packets', firstIndex.get(start) ?? 0, 'dependsOn']),
      message: `dependency cycle ${[...cycle, start].join(' -> ')}`,
    });
  }
  return problems;
}
