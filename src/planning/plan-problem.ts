/**
 * A problem found in a plan, addressed by a path a person can follow in their file
 * (`packets[2].dependsOn[0]`), and the zod plumbing that turns schema issues into such problems.
 */
import type * as z from 'zod';

export interface PlanProblem {
  /** Where in the plan, e.g. `packets[2].dependsOn[0]`; empty for the plan as a whole. */
  path: string;
  message: string;
}

export type PlanPath = ReadonlyArray<PropertyKey>;

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

export function formatPath(path: PlanPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${String(segment)}]`;
    else if (typeof segment === 'string' && PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

/** One line, because the CLI prints a one-line reason and exits 2. */
export function formatProblems(problems: readonly PlanProblem[], source: string): string {
  const parts = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`));
  return `${source}: ${parts.join('; ').replace(/\s*\n\s*/g, ' ')}`;
}

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'an object';
  if (typeof input === 'string') return 'a string';
  if (typeof input === 'number' || typeof input === 'boolean') return `${typeof input} ${String(input)}`;
  return typeof input;
}

const EXPECTED_NAMES: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  record: 'an object',
};

/**
 * Messages in a plan author's words. Passed per parse, so a schema's own `error` still wins where one
 * was given; returning undefined falls back to zod's message.
 */
export const planErrorMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${EXPECTED_NAMES[issue.expected] ?? issue.expected}, got ${describe(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return 'must not be empty';
      if (issue.origin === 'array' && issue.minimum === 1) return 'must not be empty';
      if (issue.origin === 'number' && issue.minimum === 0 && issue.inclusive !== true) return 'must be greater than 0';
      return undefined;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    default:
      return undefined;
  }
};

/** Issues become problems under `base`; an unknown-keys issue becomes one problem per key. */
export function problemsFromIssues(
  issues: readonly z.core.$ZodIssue[],
  base: PlanPath,
  unknownKeyMessage = 'unknown key',
): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: formatPath([...path, key]), message: unknownKeyMessage });
    } else {
      problems.push({ path: formatPath(path), message: issue.message });
    }
  }
  return problems;
}
