/**
 * Where a plan's agent lanes work: the git repository (`repo:`, else the one holding the current
 * directory) and the branch lanes merge into (`target:`, else the branch checked out there). Asked of
 * git before anything is written, so a plan with lanes outside a repository is bad input.
 */
import { resolve } from 'node:path';
import { git } from '../os/git-command.js';
import type { Plan, PlanProblem } from './plan.js';

export interface LaneSettings {
  /** The repository's top folder. */
  repo: string;
  target: string;
  budget: LaneBudget | null;
  /** Epoch ms: when the run's time budget started counting (the run's start). */
  startedAt?: number | undefined;
}

/** A budget in numbers: tokens, US dollars, milliseconds. */
export interface LaneBudget {
  tokens?: number | undefined;
  usd?: number | undefined;
  timeMs?: number | undefined;
}

export type LaneSettingsResult = { ok: true; lanes: LaneSettings | null } | { ok: false; problems: PlanProblem[] };

/** Null lanes for a plan without agent packets. */
export async function resolveLaneSettings(plan: Plan, cwd: string): Promise<LaneSettingsResult> {
  const first = plan.packets.findIndex((packet) => packet.agent !== undefined);
  if (first === -1) return { ok: true, lanes: null };
  const found = await locateRepository(resolve(cwd, plan.repo ?? '.'), plan.target);
  if (!found.ok) return { ok: false, problems: [{ ...found.problem, path: found.problem.path || (plan.repo === undefined ? `packets[${String(first)}].agent` : 'repo') }] };
  return { ok: true, lanes: { ...found.place, budget: plan.budget ?? null, startedAt: Date.now() } };
}

/**
 * A planner service's packets are known only once the run has started: any of them may be an agent,
 * so lanes go to the repository holding `cwd` and its checked-out branch, when there is one (without
 * one, an agent packet fails when it starts, saying why).
 */
export async function plannerLaneSettings(cwd: string): Promise<LaneSettings | null> {
  const found = await locateRepository(cwd, undefined);
  return found.ok ? { ...found.place, budget: null, startedAt: Date.now() } : null;
}

type Located = { ok: true; place: { repo: string; target: string } } | { ok: false; problem: PlanProblem };

/** The repository's top folder holding `where`, and the target branch (given, else the one checked out). */
async function locateRepository(where: string, wantedTarget: string | undefined): Promise<Located> {
  const top = await git(where, ['rev-parse', '--show-toplevel']);
  if (!top.ok) return { ok: false, problem: { path: '', message: `agent lanes need a git repository, and ${where} is not in one` } };
  const repo = top.stdout;
  let target = wantedTarget;
  if (target === undefined) {
    const head = await git(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    if (!head.ok) return { ok: false, problem: { path: 'target', message: `${repo} has no branch checked out: say which branch lanes merge into` } };
    target = head.stdout;
  }
  const exists = await git(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${target}^{commit}`]);
  if (!exists.ok) return { ok: false, problem: { path: 'target', message: `no branch "${target}" in ${repo}` } };
  return { ok: true, place: { repo, target } };
}
