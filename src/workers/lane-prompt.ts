/**
 * The prompt an agent lane's agent is given, in a file (`{prompt_file}`, OVERSEER_PROMPT_FILE): the
 * packet's objective, scope, acceptance tests and reporting contract, and the lane's ground rules.
 */
import { join } from 'node:path';
import type { WorkerView } from './kinds/worker-kind.js';
import type { LaneIds } from './lane-git.js';

export function promptFile(view: Pick<WorkerView, 'workerId' | 'attempt' | 'run'>): string {
  return join(view.run.runDir, `${view.workerId.replace(/[^A-Za-z0-9._-]/g, '_')}.${String(view.attempt)}.prompt.md`);
}

const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value, null, 2));

function section(title: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return [`## ${title}`, '', ...value.map((item) => `- ${show(item)}`), ''];
  return [`## ${title}`, '', show(value), ''];
}

export function promptText(view: WorkerView, lane: LaneIds, base: string): string {
  const packet = view.packet;
  const scope = packet['scope'] === undefined ? undefined : `${show(packet['scope'])}${packet['scope_path'] === undefined ? '' : `: ${show(packet['scope_path'])}`}`;
  const gates = Array.isArray(packet['gates']) ? packet['gates'].map((gate) => (typeof gate === 'string' ? gate : show((gate as { command?: unknown }).command))) : undefined;
  return [
    `# Task ${view.workerId}`,
    '',
    view.objective,
    '',
    ...section('Scope', scope),
    ...section('Acceptance tests', packet['acceptance_tests']),
    ...section('Acceptance criteria', packet['acceptance_criteria']),
    ...section('Checks that must pass afterwards', gates),
    ...section('Reporting contract', packet['reporting_contract']),
    '## Where you work',
    '',
    `You are in a git worktree of ${lane.repo}, on branch ${lane.place.branch}, made from ${lane.target} at ${base.slice(0, 12)}.`,
    'Work only in this folder. Commit as you like; whatever you leave uncommitted is committed for you when you exit.',
    `When you exit with status 0, the checks above run here and the branch is merged into ${lane.target}.`,
    '',
  ].join('\n');
}
