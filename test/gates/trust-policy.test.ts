import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/gates/policy-file.js';
import { policyTrustResolver } from '../../src/gates/trust-policy.js';
import type { TrustPolicy } from '../../src/planning/policy-rules.js';
import type { TrustInput, TrustVerdict } from '../../src/gates/trust-resolver.js';

const dir = mkdtempSync(join(tmpdir(), 'overseer-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUN_CWD = '/home/ada/project';

async function policyOf(source: string | object): Promise<TrustPolicy> {
  const loaded = await loadPolicy(source, dir);
  if (!loaded.ok) throw new Error(loaded.message);
  return loaded.policy;
}

async function messageOf(source: string | object): Promise<string> {
  const loaded = await loadPolicy(source, dir);
  if (loaded.ok) throw new Error('expected the policy to be rejected');
  return loaded.message;
}

type Packet = TrustInput['packet'];

/** Decides for each packet under one policy, as the runtime would before each worker starts. */
async function decide(policy: object, packet: Partial<Packet>, input: Partial<TrustInput> = {}): Promise<TrustVerdict> {
  const resolver = policyTrustResolver(await policyOf(policy), 'guard.yaml');
  return resolver({ packet: { id: 'task-1', objective: 'do it', ...packet }, autoApprove: false, cwd: RUN_CWD, ...input });
}

describe('a trust policy', () => {
  it('applies deny rules before every other rule, wherever they stand in the file', async () => {
    const policy = {
      rules: [
        { name: 'shell-is-fine', match: { worker: 'shell' }, outcome: 'trust' },
        { name: 'ask-for-deploys', match: { objective: '*deploy*' }, outcome: 'ask' },
        { name: 'no-rm', match: { command: '*rm -rf*' }, outcome: 'deny' },
      ],
    };
    expect(await decide(policy, { command: 'cd build && rm -rf /' })).toEqual({
      decision: 'deny',
      source: 'policy:guard.yaml#rules[2] (no-rm)',
    });
    expect(await decide(policy, { command: 'make' })).toEqual({ decision: 'trust', source: 'policy:guard.yaml#rules[0] (shell-is-fine)' });
  });

  it('lets the first matching trust or ask rule decide, in file order', async () => {
    const policy = {
      rules: [
        { match: { objective: '*deploy*' }, outcome: 'ask' },
        { match: { command: 'make *' }, outcome: 'trust' },
      ],
    };
    expect(await decide(policy, { objective: 'Deploy the site', command: 'make deploy' })).toEqual({
      decision: 'ask',
      source: 'policy:guard.yaml#rules[0]',
    });
    expect(await decide(policy, { objective: 'build', command: 'make all' })).toEqual({
      decision: 'trust',
      source: 'policy:guard.yaml#rules[1]',
    });
  });

  it('asks when no rule matches, unless the policy names another default', async () => {
    const rules = [{ match: { id: 'lint' }, outcome: 'trust' }];
    expect(await decide({ rules }, { id: 'build' })).toEqual({ decision: 'ask', source: 'policy:guard.yaml#default' });
    expect(await decide({ rules, default: 'deny' }, { id: 'build' })).toEqual({ decision: 'deny', source: 'policy:guard.yaml#default' });
    expect(await decide({ rules: [], default: 'trust' }, {})).toEqual({ decision: 'trust', source: 'policy:guard.yaml#default' });
  });

  it('matches a rule only when every field it names matches', async () => {
    const policy = { rules: [{ match: { id: 'test-*', command: 'npm *' }, outcome: 'trust' }] };
    expect((await decide(policy, { id: 'test-unit', command: 'npm test' })).decision).toBe('trust');
    expect((await decide(policy, { id: 'test-unit', command: 'make test' })).decision).toBe('ask');
    expect((await decide(policy, { id: 'build', command: 'npm test' })).decision).toBe('ask');
    // A packet without a command never matches a command pattern.
    expect((await decide(policy, { id: 'test-unit' })).decision).toBe('ask');
  });

  it('matches text globs against the whole command, across slashes and lines', async () => {
    const policy = { rules: [{ match: { command: '*rm -rf*' }, outcome: 'deny' }] };
    expect((await decide(policy, { command: 'echo start\nrm -rf /var/tmp/x\necho done' })).decision).toBe('deny');
    expect((await decide(policy, { command: 'rm -rf' })).decision).toBe('deny');
    expect((await decide(policy, { command: 'rm -r -f x' })).decision).toBe('ask');
    // Without stars the glob is the whole string.
    const exact = { rules: [{ match: { command: 'rm' }, outcome: 'deny' }] };
    expect((await decide(exact, { command: 'rm x' })).decision).toBe('ask');
  });

  it('matches objectives ignoring case, and ids and commands respecting it', async () => {
    const policy = {
      rules: [
        { match: { objective: '*release*' }, outcome: 'deny' },
        { match: { id: 'Build' }, outcome: 'trust' },
      ],
    };
    expect((await decide(policy, { objective: 'Cut the RELEASE' })).decision).toBe('deny');
    expect((await decide(policy, { id: 'Build' })).decision).toBe('trust');
    expect((await decide(policy, { id: 'build' })).decision).toBe('ask');
  });

  it("resolves a packet's relative cwd against the run's and matches it absolute or relative", async () => {
    const policy = {
      rules: [
        { name: 'outside', match: { cwd: '../**' }, outcome: 'deny' },
        { name: 'here', match: { cwd: '.' }, outcome: 'trust' },
        { name: 'packages', match: { cwd: 'packages/*' }, outcome: 'trust' },
        { name: 'tmp', match: { cwd: '/tmp/**' }, outcome: 'trust' },
      ],
    };
    const verdict = async (cwd?: string): Promise<string> => (await decide(policy, cwd === undefined ? {} : { cwd })).source;
    expect(await verdict()).toBe('policy:guard.yaml#rules[1] (here)');
    expect(await verdict('./')).toBe('policy:guard.yaml#rules[1] (here)');
    expect(await verdict('packages/api')).toBe('policy:guard.yaml#rules[2] (packages)');
    expect(await verdict(`${RUN_CWD}/packages/web`)).toBe('policy:guard.yaml#rules[2] (packages)');
    // `*` stays within one directory.
    expect(await verdict('packages/api/src')).toBe('policy:guard.yaml#default');
    expect(await verdict('/tmp/scratch/a')).toBe('policy:guard.yaml#rules[3] (tmp)');
    expect(await verdict('../other-project')).toBe('policy:guard.yaml#rules[0] (outside)');
    expect(await verdict('/home/ada/other-project')).toBe('policy:guard.yaml#rules[0] (outside)');
  });

  it('matches an absolute cwd glob against the run directory too', async () => {
    const policy = { rules: [{ match: { cwd: '/home/ada/**' }, outcome: 'trust' }] };
    expect((await decide(policy, {})).decision).toBe('trust');
    expect((await decide(policy, {}, { cwd: '/srv/other' })).decision).toBe('ask');
  });

  it('matches scope_path relative to where the worker runs, as written, and absolute', async () => {
    const policy = {
      rules: [
        { name: 'secrets', match: { scope_path: ['**/secrets/**', '**/.env'] }, outcome: 'deny' },
        { name: 'docs', match: { scope_path: 'docs/**' }, outcome: 'trust' },
      ],
    };
    const source = async (packet: Partial<Packet>): Promise<string> => (await decide(policy, packet)).source;
    expect(await source({ scope_path: 'config/secrets/api-key' })).toBe('policy:guard.yaml#rules[0] (secrets)');
    expect(await source({ scope_path: 'config/secrets' })).toBe('policy:guard.yaml#rules[0] (secrets)');
    expect(await source({ scope_path: '.env' })).toBe('policy:guard.yaml#rules[0] (secrets)');
    expect(await source({ scope_path: 'docs/guide.md' })).toBe('policy:guard.yaml#rules[1] (docs)');
    // Under a cwd of site/, `docs/x` is site/docs/x from the run's directory and docs/x as written.
    expect(await source({ cwd: 'site', scope_path: 'docs/index.md' })).toBe('policy:guard.yaml#rules[1] (docs)');
    expect(await source({ scope_path: `${RUN_CWD}/docs/a.md` })).toBe('policy:guard.yaml#rules[1] (docs)');
    // No scope_path: scope patterns do not match.
    expect(await source({})).toBe('policy:guard.yaml#default');
  });

  it('matches the worker kind, shell when the runtime does not say', async () => {
    const policy = { rules: [{ match: { worker: 'service' }, outcome: 'trust' }, { match: { worker: ['shell'] }, outcome: 'deny' }] };
    expect((await decide(policy, {}, { workerKind: 'service' })).decision).toBe('trust');
    expect((await decide(policy, {}, { workerKind: 'shell' })).decision).toBe('deny');
    expect((await decide(policy, {})).decision).toBe('deny');
  });

  it('trusts everything under --auto-approve except what a deny rule catches', async () => {
    const policy = {
      rules: [
        { match: { objective: '*deploy*' }, outcome: 'ask' },
        { name: 'no-rm', match: { command: '*rm -rf*' }, outcome: 'deny' },
      ],
      default: 'deny',
    };
    expect(await decide(policy, { objective: 'deploy' }, { autoApprove: true })).toEqual({ decision: 'trust', source: 'flag:--auto-approve' });
    expect(await decide(policy, {}, { autoApprove: true })).toEqual({ decision: 'trust', source: 'flag:--auto-approve' });
    expect(await decide(policy, { command: 'rm -rf /' }, { autoApprove: true })).toEqual({
      decision: 'deny',
      source: 'policy:guard.yaml#rules[1] (no-rm)',
    });
  });

  it("honours a plan's trusted: true after the rules and before the default", async () => {
    const policy = { rules: [{ match: { objective: '*deploy*' }, outcome: 'ask' }] };
    expect(await decide(policy, { trusted: true })).toEqual({ decision: 'trust', source: 'plan:trusted' });
    expect((await decide(policy, { trusted: true, objective: 'deploy' })).decision).toBe('ask');
  });
});

describe('loading a policy', () => {
  it('reads a YAML file relative to the base directory and names it as written', async () => {
    mkdirSync(join(dir, 'policies'), { recursive: true });
    writeFileSync(
      join(dir, 'policies', 'guard.yaml'),
      "rules:\n  - name: no-rm\n    match: { command: '*rm -rf*' }\n    outcome: deny\ndefault: trust\n",
    );
    const loaded = await loadPolicy('policies/guard.yaml', dir);
    expect(loaded).toEqual({
      ok: true,
      name: 'policies/guard.yaml',
      policy: { rules: [{ name: 'no-rm', match: { command: '*rm -rf*' }, outcome: 'deny' }], default: 'trust' },
    });
  });

  it('reads JSON, and an inline policy, with ask as the default', async () => {
    writeFileSync(join(dir, 'guard.json'), JSON.stringify({ rules: [{ match: { id: 'a' }, outcome: 'trust' }] }));
    expect(await policyOf('guard.json')).toEqual({ rules: [{ match: { id: 'a' }, outcome: 'trust' }], default: 'ask' });
    expect(await loadPolicy({ rules: [] }, dir)).toEqual({ ok: true, name: 'plan', policy: { rules: [], default: 'ask' } });
  });

  it('reports every problem of a bad file on one line, each with its path', async () => {
    writeFileSync(
      join(dir, 'bad.yaml'),
      [
        'rules:',
        '  - match: { command: "*rm*" }',
        '    outcome: allow',
        '  - match: { cmd: "make" }',
        '    outcome: trust',
        '  - match: {}',
        '    outcome: ask',
        '    why: because',
        'default: maybe',
        'colour: blue',
      ].join('\n'),
    );
    expect(await messageOf('bad.yaml')).toBe(
      'bad.yaml: ' +
        [
          'rules[0].outcome: expected one of trust, ask, deny',
          'rules[1].match.cmd: unknown key (a match has id, objective, command, cwd, scope_path, worker)',
          'rules[2].match: name at least one of id, objective, command, cwd, scope_path, worker',
          'rules[2].why: unknown key (a rule has name, match, outcome)',
          'default: expected one of trust, ask, deny',
          'colour: unknown key (a policy has rules, default)',
        ].join('; '),
    );
  });

  it('says what is wrong with a glob or a worker kind', async () => {
    const message = await messageOf({
      rules: [
        { match: {}, outcome: 'trust' },
        { match: { cwd: 42 }, outcome: 'trust' },
        { match: { worker: 'docker' }, outcome: 'trust' },
        { match: { command: [] }, outcome: 'trust' },
      ],
    });
    expect(message).toBe(
      [
        'policy.rules[0].match: name at least one of id, objective, command, cwd, scope_path, worker',
        'policy.rules[1].match.cwd: expected a glob or a list of globs',
        'policy.rules[2].match.worker: expected shell or service, or a list of them',
        'policy.rules[3].match.command: must not be empty',
      ].join('; '),
    );
  });

  it('names a missing file, a syntax error by line, and a file that is not a policy', async () => {
    expect(await messageOf('nowhere.yaml')).toBe('nowhere.yaml: file not found');
    writeFileSync(join(dir, 'broken.yaml'), 'rules:\n  - match: { command: [unclosed\n');
    expect(await messageOf('broken.yaml')).toMatch(/^broken\.yaml: YAML syntax error at line \d+: /);
    writeFileSync(join(dir, 'broken.json'), '{\n  "rules": [\n}');
    expect(await messageOf('broken.json')).toMatch(/^broken\.json: JSON syntax error at line 3: /);
    writeFileSync(join(dir, 'list.yaml'), '- deny\n');
    expect(await messageOf('list.yaml')).toBe('list.yaml: expected a trust policy (an object with rules), got a list');
    writeFileSync(join(dir, 'empty.yaml'), '');
    expect(await messageOf('empty.yaml')).toBe('empty.yaml: expected a trust policy (an object with rules), got nothing');
    for (const message of [await messageOf('broken.yaml'), await messageOf('broken.json')]) expect(message).not.toContain('\n');
  });
});
