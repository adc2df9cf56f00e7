import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblems, type PlanResult } from '../../src/planning/plan.js';
import { loadPlanFile } from '../../src/planning/plan-file.js';

const dir = mkdtempSync(join(tmpdir(), 'overseer-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function oneLine(result: PlanResult, source: string): string {
  if (result.ok) throw new Error('expected the file to be rejected');
  return formatProblems(result.problems, source);
}

const YAML_PLAN = `
objective: build and check
defaults:
  timeout: 30s
  env:
    MODE: ci
packets:
  - id: build
    objective: Build it
    command: echo build
  - id: test
    objective: Test it
    dependsOn: [build]
    command: echo test
    env:
      VERBOSE: 1
    scope: module
    scope_path: src/parser
`;

const JSON_PLAN = JSON.stringify({
  objective: 'build and check',
  defaults: { timeout: '30s', env: { MODE: 'ci' } },
  packets: [
    { id: 'build', objective: 'Build it', command: 'echo build' },
    { id: 'test', objective: 'Test it', dependsOn: ['build'], command: 'echo test', env: { VERBOSE: 1 }, scope: 'module', scope_path: 'src/parser' },
  ],
});

describe('a plan file', () => {
  it('loads the same plan from YAML and from JSON', async () => {
    const fromYaml = await loadPlanFile(write('plan.yaml', YAML_PLAN));
    const fromJson = await loadPlanFile(write('plan.json', JSON_PLAN));
    if (!fromYaml.ok || !fromJson.ok) throw new Error('both should load');
    const { source: yamlSource, ...yamlPlan } = fromYaml.plan;
    const { source: jsonSource, ...jsonPlan } = fromJson.plan;
    expect(yamlPlan).toEqual(jsonPlan);
    expect(yamlPlan.packets[1]).toMatchObject({ id: 'test', dependsOn: ['build'], timeoutMs: 30_000, env: { MODE: 'ci', VERBOSE: '1' } });
    expect([yamlSource, jsonSource]).toEqual([join(dir, 'plan.yaml'), join(dir, 'plan.json')]);
  });

  it('reads a file with another extension as JSON or YAML, whichever it is', async () => {
    expect((await loadPlanFile(write('plan-json.txt', JSON_PLAN))).ok).toBe(true);
    expect((await loadPlanFile(write('plan-yaml.txt', YAML_PLAN))).ok).toBe(true);
    expect((await loadPlanFile(write('Planfile', YAML_PLAN))).ok).toBe(true);
  });

  it('reads a file saved with a UTF-8 byte-order mark, JSON as well as YAML', async () => {
    for (const [name, text] of [['bom.json', JSON_PLAN], ['bom.yaml', YAML_PLAN], ['bom-json.txt', JSON_PLAN]] as const) {
      const result = await loadPlanFile(write(name, `\uFEFF${text}`));
      expect(result.ok ? result.plan.packets.map((p) => p.id) : result.problems).toEqual(['build', 'test']);
    }
  });

  it('says so when the file is missing', async () => {
    const path = join(dir, 'absent.yaml');
    expect(oneLine(await loadPlanFile(path), path)).toBe(`${path}: file not found`);
  });

  it('says so when the path is a directory', async () => {
    const path = join(dir, 'a-folder.yaml');
    mkdirSync(path);
    expect(oneLine(await loadPlanFile(path), path)).toBe(`${path}: is a directory, not a plan file`);
  });

  it.skipIf(process.getuid?.() === 0)('says so when the file cannot be read', async () => {
    const path = write('locked.yaml', YAML_PLAN);
    chmodSync(path, 0o000);
    expect(oneLine(await loadPlanFile(path), path)).toBe(`${path}: permission denied`);
  });

  it('points at the line of a YAML syntax error, on one line', async () => {
    const path = write('broken.yaml', 'packets:\n  - objective: a\n    command: [echo, x\n  - objective: b\n');
    const line = oneLine(await loadPlanFile(path), path);
    expect(line).toMatch(new RegExp(`^${path}: YAML syntax error at line \\d+: \\S`));
    expect(line).not.toContain('\n');
  });

  it('reports a duplicated YAML key as a syntax error at its line', async () => {
    const path = write('dup.yaml', 'packets:\n  - objective: a\n    objective: b\n');
    expect(oneLine(await loadPlanFile(path), path)).toBe(`${path}: YAML syntax error at line 3: Map keys must be unique`);
  });

  it('points at the line of a JSON syntax error', async () => {
    const path = write('broken.json', '{\n  "packets": [\n    {"objective": "a"},\n  ]\n}\n');
    expect(oneLine(await loadPlanFile(path), path)).toMatch(new RegExp(`^${path}: JSON syntax error at line 4: `));
  });

  it('reports plan problems with paths, named by the file', async () => {
    const path = write('bad.yaml', 'packets:\n  - objective: a\n  - id: b\n    dependsOn: [zzz]\nworkers: 2\n');
    expect(oneLine(await loadPlanFile(path), 'plan.yaml')).toBe(
      'plan.yaml: workers: unknown key (a plan has objective, packets, defaults, policy, bootstrap, concurrency, repo, target, budget); ' +
        'packets[1].objective: required; packets[1].dependsOn[0]: unknown packet "zzz"',
    );
  });

  it('keeps a field nested 128 levels deep, counting from the top of the file, and refuses one level more with its path', async () => {
    // The plan (1), packets (2) and the packet (3) are levels too: its repo may nest 125 lists.
    const packet = (lists: number) => `{"packets": [{"objective": "o", "repo": ${'['.repeat(lists)}"x"${']'.repeat(lists)}}]}`;
    const kept = await loadPlanFile(write('deep-ok.json', packet(125)));
    expect(kept.ok && JSON.stringify(kept.plan.packets[0]?.['repo'])).toBe(`${'['.repeat(125)}"x"${']'.repeat(125)}`);
    expect(oneLine(await loadPlanFile(write('deep.json', packet(126))), 'deep.json')).toBe('deep.json: packets[0].repo[0][0][0][0][0]…: nested more than 128 levels deep');
    const oddKey = write('deep-key.json', `{"packets": [{"objective": "o", "repo": {"odd key": ${'['.repeat(125)}${']'.repeat(125)}}}]}`);
    expect(oneLine(await loadPlanFile(oddKey), 'deep-key.json')).toBe('deep-key.json: packets[0].repo["odd key"][0][0][0][0]…: nested more than 128 levels deep');
  });

  it('refuses YAML nested deeper than its parser goes, and aliases that expand without end, as one line', async () => {
    const deep = write('deeper.yaml', `packets:\n  - objective: o\n    repo: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    expect(oneLine(await loadPlanFile(deep), 'deeper.yaml')).toBe('deeper.yaml: line 3: nested more than 128 levels deep');
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i += 1) laughs.push(`${'abcdefghi'[i] as string}: &${'abcdefghi'[i] as string} [${Array(9).fill(`*${'abcdefghi'[i - 1] as string}`).join(', ')}]`);
    laughs.push('packets: [{objective: o, repo: *i}]');
    const bomb = write('laughs.yaml', `${laughs.join('\n')}\n`);
    expect(oneLine(await loadPlanFile(bomb), 'laughs.yaml')).toMatch(/^laughs\.yaml: YAML error: Excessive alias count/);
  });

  it('rejects an empty file', async () => {
    const path = write('empty.yaml', '# nothing yet\n');
    expect(oneLine(await loadPlanFile(path), 'empty.yaml')).toBe('empty.yaml: expected a plan (an object with packets), got nothing');
  });
});

describe('a JSON syntax error', () => {
  const cases: [string, string, number][] = [
    ['trailing comma', '{\n  "packets": [\n    {"objective": "a"},\n  ]\n}\n', 4],
    ['missing comma', '{\n  "packets": []\n  "objective": "x"\n}', 3],
    ['unfinished', '{\n  "packets": [\n', 3],
    ['text after the plan', '{"packets": []}\n\nmore', 3],
    ['bad literal', '{\n"a": tru\n}', 2],
    // Nested deeper than any call stack: the scanner must not recurse per level.
    ['200,000 brackets never closed', `{"packets":\n${'['.repeat(200_000)}`, 2],
  ];
  it.each(cases)('names the line: %s', async (name, text, line) => {
    const path = write(`${name.replace(/ /g, '-')}.json`, text);
    const message = oneLine(await loadPlanFile(path), 'p.json');
    expect(message).toMatch(new RegExp(`^p\\.json: JSON syntax error at line ${String(line)}: \\S`));
    expect(message).not.toContain('\n');
  });
});
