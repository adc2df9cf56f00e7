/**
 * A run asked for by a program (the MCP tool `start_run`, the library's `startRun`) rather than typed
 * on a command line: a plan as text, an object or a file, trust rules, and where commands run. Checked
 * completely before anything is written; every problem comes back at once, each with its path.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadPolicy } from '../gates/policy-file.js';
import { loadPlanFile, parsePlanText } from '../planning/plan-file.js';
import { parsePlan, type Plan, type PlanProblem } from '../planning/plan.js';
import { resolveLaneSettings } from '../planning/agent-repository.js';
import { OverseerError } from '../errors.js';
import type { RunOptions } from './start-run.js';

export interface RunRequest {
  /** The plan as YAML or JSON text, or as an object; or give `planFile`. */
  plan?: string | object | undefined;
  /** A plan file (relative to `cwd`). */
  planFile?: string | undefined;
  /** What the run is for; default the plan's `objective`. */
  objective?: string | undefined;
  /** Trust every packet the policy's deny rules do not refuse. */
  autoApprove?: boolean | undefined;
  /** Trust rules, or the path of a policy file (relative to `cwd`); wins over the plan's `policy:`. */
  policy?: string | object | undefined;
  /** Where the packets' commands run (absolute); default the process's working directory. */
  cwd?: string | undefined;
  /** How many workers run at once; default the plan's, else 4. */
  concurrency?: number | undefined;
}

/** A request that cannot run as given: `problems` lists every one, each with its path. */
export class RunRequestError extends OverseerError {
  readonly code = 'USAGE' as const;
  constructor(
    readonly problems: readonly PlanProblem[],
    readonly source: string,
  ) {
    super(`${source}: ${problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('; ')}`);
  }
}

function fail(source: string, ...problems: PlanProblem[]): never {
  throw new RunRequestError(problems, source);
}

async function readPlan(request: RunRequest, cwd: string): Promise<{ plan: Plan; source: string; baseDir: string }> {
  const given = [request.plan, request.planFile].filter((p) => p !== undefined).length;
  if (given !== 1) fail('request', { path: '', message: given === 0 ? 'give a plan (YAML or JSON text) or a planFile' : 'give a plan or a planFile, not both' });
  if (request.planFile !== undefined) {
    const path = resolve(cwd, request.planFile);
    const loaded = await loadPlanFile(path);
    if (!loaded.ok) fail(request.planFile, ...loaded.problems);
    return { plan: loaded.plan, source: request.planFile, baseDir: dirname(path) };
  }
  const parsed = typeof request.plan === 'string' ? parsePlanText(request.plan, 'plan') : parsePlan(request.plan, 'plan');
  if (!parsed.ok) fail('plan', ...parsed.problems);
  return { plan: parsed.plan, source: 'plan', baseDir: cwd };
}

/** What a plan given as text is called when it names no objective: its one packet's, or a count. */
function inlinePlanObjective(packets: readonly { objective: string }[]): string {
  return packets.length === 1 ? packets[0]!.objective : `a plan of ${String(packets.length)} packets`;
}

/** The options `startRun`/`recordRun` take, or RunRequestError. Reads files; writes nothing. */
export async function runOptionsFor(request: RunRequest, defaultCwd: string = process.cwd()): Promise<RunOptions> {
  if (request.cwd !== undefined && !isAbsolute(request.cwd)) fail('request', { path: 'cwd', message: `expected an absolute path, got ${JSON.stringify(request.cwd)}` });
  const cwd = request.cwd ?? defaultCwd;
  const { plan, source, baseDir } = await readPlan(request, cwd);
  // No --worker here: a packet is run by its own command, or by its agent.
  const homeless = plan.packets.flatMap((p, index) => (p.command === undefined && p.agent === undefined ? [{ path: `packets[${String(index)}].command`, message: `packet ${p.id} needs a command or an agent` }] : []));
  if (homeless.length > 0) fail(source, ...homeless);
  // Agent lanes' repository: the plan's `repo:` relative to `cwd` (as `overseer run` reads it), else the one holding `cwd`.
  const lanes = await resolveLaneSettings(plan, cwd);
  if (!lanes.ok) fail(source, ...lanes.problems);
  const policySource = request.policy ?? plan.policy;
  let policy: RunOptions['policy'] = null;
  if (policySource !== undefined) {
    const loaded = await loadPolicy(policySource, request.policy !== undefined ? cwd : baseDir);
    if (!loaded.ok) fail(request.policy !== undefined ? 'policy' : source, { path: '', message: loaded.message });
    policy = { name: loaded.name, policy: loaded.policy };
  }
  return {
    objective: request.objective ?? plan.objective ?? (source === 'plan' ? inlinePlanObjective(plan.packets) : `plan ${source}`),
    cwd,
    concurrency: request.concurrency ?? plan.concurrency ?? 4,
    packets: plan.packets,
    autoApprove: request.autoApprove === true,
    workerCommand: null,
    policy,
    bootstrap: plan.bootstrap ?? [],
    lanes: lanes.lanes,
  };
}
