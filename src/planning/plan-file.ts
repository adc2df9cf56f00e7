/**
 * Reading a plan file (`--plan FILE`). Every way it can go wrong (missing, unreadable, bad syntax, bad
 * plan) comes back as problems in the same result `parsePlan` gives, named by the path as the user
 * typed it.
 */
import { parsePlan, type PlanResult } from './plan.js';
import { readStructuredFile } from './structured-file.js';

export async function loadPlanFile(path: string): Promise<PlanResult> {
  const file = await readStructuredFile(path, 'plan');
  if (!file.ok) return { ok: false, problems: [{ path: '', message: file.message }] };
  return parsePlan(file.value, path);
}
