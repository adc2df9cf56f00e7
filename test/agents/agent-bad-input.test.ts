/** Agent lanes in a plan a person wrote: every mistake is one line naming its path, exit 2, nothing written. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { overseer } from '../support/cli.js';

let outside: string;
let repo: string;
const lane = (extra: string) => `packets:\n  - id: api\n    objective: add an endpoint\n${extra}`;

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'overseer-agent-bad-'));
  repo = join(outside, 'repo');
  await mkdir(repo);
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'start']);
  const files: Record<string, string> = {
    'preset.yaml': lane('    agent: claud\n'),
    'output.yaml': lane('    agent: { command: "my-agent", output: xml }\n'),
    'agent-key.yaml': lane('    agent: { command: "my-agent", outptu: text }\n'),
    'zero-budget.yaml': lane('    agent: claude\n    budget: { tokens: 0 }\n'),
    'negative-usd.yaml': lane('    agent: claude\n    budget: { usd: -2 }\n'),
    'budget-key.yaml': lane('    agent: claude\n    budget: { dollars: 2 }\n'),
    'run-budget.yaml': `budget: { time: "-1h" }\n${lane('    agent: claude\n')}`,
    'merge.yaml': lane('    agent: claude\n    merge: rebase\n'),
    'target.yaml': `target: nosuchbranch\n${lane('    agent: claude\n')}`,
    'good.yaml': lane('    agent: claude\n'),
  };
  for (const [name, text] of Object.entries(files)) {
    await writeFile(join(outside, name), text);
    await writeFile(join(repo, name), text);
  }
});
afterAll(() => rm(outside, { recursive: true, force: true }));

const inRepo: Array<[string, string, RegExp]> = [
  ['an unknown preset', 'preset.yaml', /^preset\.yaml: packets\[0\]\.agent: unknown agent preset "claud" \(presets: claude, codex; or give \{ command, output \}\)$/],
  ['an unknown output format', 'output.yaml', /^output\.yaml: packets\[0\]\.agent\.output: expected an output format: text, claude-stream-json, codex-json$/],
  ['an unknown key in an agent', 'agent-key.yaml', /^agent-key\.yaml: packets\[0\]\.agent\.outptu: unknown key/],
  ['a budget of zero tokens', 'zero-budget.yaml', /^zero-budget\.yaml: packets\[0\]\.budget\.tokens: expected a positive number$/],
  ['a negative budget in dollars', 'negative-usd.yaml', /^negative-usd\.yaml: packets\[0\]\.budget\.usd: expected a positive number$/],
  ['an unknown key in a budget', 'budget-key.yaml', /^budget-key\.yaml: packets\[0\]\.budget\.dollars: unknown key/],
  ['a run budget of negative time', 'run-budget.yaml', /^run-budget\.yaml: budget\.time: expected a duration/],
  ['an unknown merge mode', 'merge.yaml', /^merge\.yaml: packets\[0\]\.merge: expected one of merge, squash, none$/],
  ['a target branch the repository lacks', 'target.yaml', /^target\.yaml: target: no branch "nosuchbranch" in /],
];

describe('agent lanes: bad input', () => {
  it.each(inRepo)('%s: one line naming its path, exit 2, nothing written', async (_name, file, message) => {
    const result = await overseer(['run', '--plan', file], { cwd: repo });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(existsSync(join(repo, '.overseer'))).toBe(false);
  });

  it('an agent packet outside a git repository: one line naming it, exit 2, nothing written', async () => {
    const result = await overseer(['run', '--plan', 'good.yaml'], { cwd: outside });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(/^good\.yaml: packets\[0\]\.agent: agent lanes need a git repository, and .* is not in one$/);
    expect(existsSync(join(outside, '.overseer'))).toBe(false);
  });
});
