/**
 * Reading a plan file (`--plan FILE`). Every way it can go wrong (missing, unreadable, bad syntax, bad
 * plan) comes back as problems in the same result `parsePlan` gives, named by the path as the user
 * typed it.
 */
import { parsePlan, type PlanResult } from './plan.js';
import { parseStructuredText, readStructuredFile } from './structured-file.js';

export async function loadPlanFile(path: string): Promise<PlanResult> {
  const file = await readStructuredFile(path, 'plan');
  if (!file.ok) return { ok: false, problems: [{ path: '', message: file.message }] };
  return parsePlan(file.value, path);
}

/** A plan given as YAML or JSON text; `source` names it in problems and events (`mcp`, `api`). */
export function parsePlanText(text: string, source: string): PlanResult {
  const parsed = parseStructuredText(text, 'plan');
  if (!parsed.ok) return { ok: false, problems: [{ path: '', message: parsed.message }] };
  return parsePlan(parsed.value, source);
}
