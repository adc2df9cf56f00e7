import { describe, expect, it } from 'vitest';
import { DEFAULT_RECIPES, FAILURE_KINDS } from '../../machines/recovery.js';
import { formatProblems, parsePlan, type Plan, type PlanProblem, type PlanResult } from '../../src/planning/plan.js';
import { planFromObjective } from '../../src/planning/single-packet-plan.js';

function planOf(result: PlanResult): Plan {
  if (!result.ok) throw new Error(formatProblems(result.problems, 'test'));
  return result.plan;
}

function problemsOf(result: PlanResult): Record<string, string> {
  if (result.ok) throw new Error('expected the plan to be rejected');
  return Object.fromEntries(result.problems.map((p) => [p.path, p.message]));
}

describe('a plan', () => {
  it('needs only objectives: ids default to task-N by position', () => {
    const plan = planOf(parsePlan({ packets: [{ objective: 'one' }, { id: 'named', objective: 'two' }, { objective: 'three' }] }, 'p'));
    expect(plan.packets.map((p) => p.id)).toEqual(['task-1', 'named', 'task-3']);
    expect(plan.packets.every((p) => Array.isArray(p.dependsOn) && p.dependsOn.length === 0)).toBe(true);
  });

  it('reports every problem at once, each with its path', () => {
    const result = parsePlan(
      {
        packets: [
          { id: 'a', objective: 'fine' },
          { id: 'b' },
          { id: 'c', objective: 'x', dependsOn: ['nope'], timeout: 'soon', trusted: 'yes' },
          { id: 'a', objective: 'again' },
        ],
        concurrency: 0,
      },
      'plan.yaml',
    );
    expect(problemsOf(result)).toEqual({
      concurrency: 'must be greater than 0',
      'packets[1].objective': 'required',
      'packets[2].timeout': 'expected a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'packets[2].trusted': 'expected true or false, got a string',
      'packets[2].dependsOn[0]': 'unknown packet "nope"',
      'packets[3].id': 'duplicate id "a" (first used by packets[0])',
    });
  });

  it('formats its problems as one line the CLI can print', () => {
    const result = parsePlan({ packets: [{ objective: 'a' }, {}, { objective: 'c', dependsOn: ['x'] }] }, 'plan.yaml');
    if (result.ok) throw new Error('expected problems');
    const line = formatProblems(result.problems, 'plan.yaml');
    expect(line).toBe('plan.yaml: packets[1].objective: required; packets[2].dependsOn[0]: unknown packet "x"');
    expect(line).not.toContain('\n');
  });

  it('names a dependency cycle', () => {
    const result = parsePlan(
      {
        packets: [
          { id: 'start', objective: 's' },
          { id: 'a', objective: 'a', dependsOn: ['start', 'c'] },
          { id: 'b', objective: 'b', dependsOn: ['a'] },
          { id: 'c', objective: 'c', dependsOn: ['b'] },
        ],
      },
      'p',
    );
    expect(problemsOf(result)).toEqual({ 'packets[1].dependsOn': 'dependency cycle a -> c -> b -> a' });
  });

  it('names each separate cycle and a self-dependency', () => {
    const result = parsePlan(
      {
        packets: [
          { id: 'x', objective: 'x', dependsOn: ['y'] },
          { id: 'y', objective: 'y', dependsOn: ['x'] },
          { id: 'me', objective: 'me', dependsOn: ['me'] },
          { id: 'p', objective: 'p', dependsOn: ['q'] },
          { id: 'q', objective: 'q', dependsOn: ['p'] },
        ],
      },
      'p',
    );
    expect(problemsOf(result)).toEqual({
      'packets[0].dependsOn': 'dependency cycle x -> y -> x',
      'packets[2].dependsOn[0]': 'packet "me" depends on itself',
      'packets[3].dependsOn': 'dependency cycle p -> q -> p',
    });
  });

  it('refuses a key it does not know at every depth of a plan a person wrote, each by its path, all at once', () => {
    const result = parsePlan(
      {
        pakcets: [],
        policy: { rules: [{ match: { id: 'a', colour: 'red' }, outcome: 'trust', nmae: 'x' }], defualt: 'ask' },
        defaults: { timeout: '30s', colour: 'blue', recovery: { exit_nonzero: { max_attempt: 2 } } },
        packets: [
          {
            objective: 'a',
            recipes: { exit_nonzero: { max_attempts: 2 } },
            gates: ['npm test', { command: 'tsc', levle: 'package' }],
            recovery: { exit_nonzro: {}, timeout: { backoff: { intial: '1s' } } },
          },
          { objective: 'b' },
        ],
      },
      'p',
    );
    expect(problemsOf(result)).toEqual({
      pakcets: 'unknown key (a plan has objective, packets, defaults, policy, bootstrap, concurrency, repo, target, budget)',
      'policy.rules[0].match.colour': 'unknown key (a match has id, objective, command, cwd, scope_path, worker)',
      'policy.rules[0].nmae': 'unknown key (a rule has name, match, outcome)',
      'policy.defualt': 'unknown key (a policy has rules, default)',
      // Once, under defaults: not again for every packet the defaults apply to.
      'defaults.colour': 'unknown key',
      'defaults.recovery.exit_nonzero.max_attempt': 'unknown key (a recipe has max_attempts, backoff, escalate)',
      'packets[0].recipes': 'unknown key',
      'packets[0].gates[1].levle': 'unknown key',
      'packets[0].recovery.exit_nonzro': `unknown key (failure kinds are ${FAILURE_KINDS.join(', ')}, and '*' for the rest)`,
      'packets[0].recovery.timeout.backoff.intial': 'unknown key (backoff has initial, factor, max, jitter)',
    });
    expect(formatProblems((result as { problems: PlanProblem[] }).problems, 'plan.yaml')).toMatch(/; packets\[0\]\.recipes: unknown key;/);
  });

  it('keeps every field of packets a planner service returned, at every depth', () => {
    const packet = {
      objective: 'a',
      priority: 'high',
      myServiceHint: { deep: [1, 2] },
      gates: [{ command: 'tsc', level: 'package', retries: 1 }],
    };
    const plan = planOf(parsePlan({ packets: [packet] }, 'planner', { unknownKeys: 'keep' }));
    expect(plan.packets[0]).toMatchObject({ priority: 'high', myServiceHint: { deep: [1, 2] }, gates: [{ command: 'tsc', level: 'package', retries: 1 }] });
    expect(problemsOf(parsePlan({ packets: [packet] }, 'plan.yaml'))).toEqual({
      'packets[0].priority': 'unknown key',
      'packets[0].myServiceHint': 'unknown key',
      'packets[0].gates[0].retries': 'unknown key',
    });
  });

  it('rejects a plan that is not an object, or has no packets', () => {
    expect(problemsOf(parsePlan(null, 'p'))).toEqual({ '': 'expected a plan (an object with packets), got nothing' });
    expect(problemsOf(parsePlan({ objective: 'x' }, 'p'))).toEqual({ packets: 'required' });
    expect(problemsOf(parsePlan({ packets: [] }, 'p'))).toEqual({ packets: 'must not be empty' });
  });

  it("keeps Claw Code's task-packet fields untouched", () => {
    const claw = {
      objective: 'fix the parser',
      scope: 'single_file',
      scope_path: 'src/parser.ts',
      repo: 'acme/widgets',
      worktree: '../wt-parser',
      branch_policy: 'feature/*',
      acceptance_tests: ['npm test -- parser'],
      acceptance_criteria: ['no regressions'],
      commit_policy: 'single commit',
      reporting_contract: { format: 'markdown' },
      escalation_policy: 'ask',
      recovery_policy: { retries: 2, nested: { list: [1, 'two', null] } },
      verification_plan: ['lint', 'test'],
    };
    const plan = planOf(parsePlan({ packets: [claw] }, 'p'));
    expect(plan.packets[0]).toEqual({ ...claw, id: 'task-1', dependsOn: [], recipes: DEFAULT_RECIPES });
  });

  it('checks the Claw Code scope against its known values', () => {
    expect(problemsOf(parsePlan({ packets: [{ objective: 'a', scope: 'galaxy' }] }, 'p'))).toEqual({
      'packets[0].scope': 'expected one of workspace, module, single_file, custom',
    });
  });

  it('applies defaults unless a packet sets the field, merging env maps', () => {
    const plan = planOf(
      parsePlan(
        {
          defaults: { timeout: '30s', trusted: true, cwd: '/srv', env: { MODE: 'ci', LEVEL: 1 } },
          packets: [
            { id: 'a', objective: 'a' },
            { id: 'b', objective: 'b', timeout: '2m', trusted: false, env: { LEVEL: '2', EXTRA: 'yes' } },
          ],
        },
        'p',
      ),
    );
    const [a, b] = plan.packets;
    expect(a).toMatchObject({ timeout: '30s', timeoutMs: 30_000, trusted: true, cwd: '/srv', env: { MODE: 'ci', LEVEL: '1' } });
    expect(b).toMatchObject({ timeout: '2m', timeoutMs: 120_000, trusted: false, cwd: '/srv', env: { MODE: 'ci', LEVEL: '2', EXTRA: 'yes' } });
  });

  it('reports a bad default once, under defaults, and refuses per-packet fields there', () => {
    const result = parsePlan(
      { defaults: { timeout: 'later', id: 'same', dependsOn: ['a'] }, packets: [{ objective: 'a' }, { objective: 'b' }] },
      'p',
    );
    expect(problemsOf(result)).toEqual({
      'defaults.timeout': 'expected a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'defaults.id': 'set ids on packets, not in defaults',
      'defaults.dependsOn': 'set dependsOn on packets, not in defaults',
    });
  });

  it('parses durations and keeps what was written beside the milliseconds', () => {
    const timeouts = ['500ms', '30s', '10m', '1h', '1h30m', 90, 0.25, '45'];
    const plan = planOf(parsePlan({ packets: timeouts.map((timeout) => ({ objective: 'x', timeout })) }, 'p'));
    expect(plan.packets.map((p) => [p.timeout, p.timeoutMs])).toEqual([
      ['500ms', 500],
      ['30s', 30_000],
      ['10m', 600_000],
      ['1h', 3_600_000],
      ['1h30m', 5_400_000],
      [90, 90_000],
      [0.25, 250],
      ['45', 45_000],
    ]);
    const bad = problemsOf(parsePlan({ packets: ['0s', '-5', '5 minutes', true].map((timeout) => ({ objective: 'x', timeout })) }, 'p'));
    expect(Object.keys(bad)).toEqual(['packets[0].timeout', 'packets[1].timeout', 'packets[2].timeout', 'packets[3].timeout']);
  });

  it('refuses a duration longer than ten years where it is written, so an absurd one never starts a run', () => {
    const plan = planOf(parsePlan({ packets: [{ objective: 'x', timeout: '87600h' }] }, 'p'));
    expect(plan.packets[0]?.timeoutMs).toBe(87_600 * 3_600_000);
    const result = parsePlan(
      {
        defaults: { timeout: '87600h1ms' },
        packets: [
          { objective: 'x', timeout: '1000000000000h' },
          { objective: 'x', timeout: 1e300, gates: [{ command: 'true', timeout: '9999999999999999999s' }] },
          { objective: 'x', recovery: { timeout: { backoff: { initial: '1s', max: '100000000h' } } } },
        ],
      },
      'p',
    );
    expect(problemsOf(result)).toEqual({
      'defaults.timeout': 'expected a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'packets[0].timeout': 'expected a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'packets[1].timeout': 'expected a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'packets[1].gates[0].timeout': 'expected a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
      'packets[2].recovery.timeout.backoff.max': 'expected 0 or a duration like 500ms, 30s, 10m, 1h or a number of seconds, at most 87600h (ten years)',
    });
  });

  it('reads quality gates: a bare command, levels, timeouts', () => {
    const plan = planOf(
      parsePlan(
        {
          packets: [
            {
              objective: 'x',
              gates: ['npm test', { name: 'types', command: 'tsc', level: 'package', timeout: '2m' }],
            },
          ],
        },
        'p',
      ),
    );
    expect(plan.packets[0]?.gates).toEqual([
      { command: 'npm test', level: 'targeted_tests' },
      { name: 'types', command: 'tsc', level: 'package', timeout: '2m', timeoutMs: 120_000 },
    ]);
    expect(problemsOf(parsePlan({ packets: [{ objective: 'x', gates: [{ level: 'deploy' }] }] }, 'p'))).toEqual({
      'packets[0].gates[0].command': 'required',
      'packets[0].gates[0].level': 'expected one of targeted_tests, package, workspace, merge_ready',
    });
  });

  it('carries objective, policy, bootstrap phases and concurrency', () => {
    const plan = planOf(
      parsePlan(
        {
          objective: 'ship it',
          policy: 'policy.yaml',
          bootstrap: ['install', { phase: 'migrate', database: 'test' }],
          concurrency: 4,
          packets: [{ objective: 'x' }],
        },
        'plan.yaml',
      ),
    );
    expect(plan).toMatchObject({
      source: 'plan.yaml',
      objective: 'ship it',
      policy: 'policy.yaml',
      bootstrap: [{ phase: 'install' }, { phase: 'migrate', database: 'test' }],
      concurrency: 4,
    });
    expect(problemsOf(parsePlan({ policy: 7, packets: [{ objective: 'x' }] }, 'p'))).toEqual({
      policy: 'expected trust rules (an object) or the path of a policy file',
    });
  });
});

describe('a plan from a bare objective', () => {
  it('is one packet, task-1, running the worker command', () => {
    const plan = planOf(planFromObjective('write the release notes', './worker.sh'));
    expect(plan.objective).toBe('write the release notes');
    expect(plan.packets).toEqual([
      { id: 'task-1', objective: 'write the release notes', command: './worker.sh', dependsOn: [], recipes: DEFAULT_RECIPES },
    ]);
  });

  it('has no command when no worker is given', () => {
    expect(planOf(planFromObjective('plan only', undefined)).packets[0]).not.toHaveProperty('command');
  });

  it('refuses an empty objective in the words of the command line', () => {
    const result = planFromObjective('  ', './w.sh');
    if (result.ok) throw new Error('expected a problem');
    expect(formatProblems(result.problems, 'command line')).toBe('command line: objective: must not be empty');
  });
});
