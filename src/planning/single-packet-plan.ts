/**
 * The plan behind a bare `overseer run "objective" --worker CMD`: one packet, `task-1`. The worker
 * learns the objective from OVERSEER_OBJECTIVE, which the worker driver sets for every packet.
 */
import { parsePlan, type PlanProblem, type PlanResult } from './plan.js';

export const COMMAND_LINE_SOURCE = 'command line';

export function planFromObjective(objective: string, workerCommand: string | undefined): PlanResult {
  // Named as the user typed them, not as packet paths they never wrote.
  const problems: PlanProblem[] = [];
  if (objective.trim() === '') problems.push({ path: 'objective', message: 'must not be empty' });
  if (workerCommand?.trim() === '') problems.push({ path: '--worker', message: 'must not be empty' });
  if (problems.length > 0) return { ok: false, problems };

  const packet: Record<string, unknown> = { id: 'task-1', objective };
  if (workerCommand !== undefined) packet['command'] = workerCommand;
  return parsePlan({ objective, packets: [packet] }, COMMAND_LINE_SOURCE);
}
