/**
 * Agent lanes end to end, with the real CLI, a real git repository and a scripted fake agent
 * (test/support/fake-agent.mjs) that edits files and speaks each output format: lanes in parallel and
 * in dependency order (a dependent lane sees the merged work of its dependencies), a merge conflict a
 * person resolves, a budget passed mid-lane, and the engine killed with SIGKILL while an agent works.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostId } from '../../src/os/host-id.js';
import { testBackends, type TestTarget } from '../support/backends.js';
import { eventually, overseer, overseerProcess } from '../support/cli.js';

const FAKE = new URL('../support/fake-agent.mjs', import.meta.url).pathname;
const agent = (format: string, args: string) => JSON.stringify({ command: `node ${FAKE} ${format} {prompt_file} ${args}`, output: format });

interface LoggedEvent {
  type: string;
  workerId: string | null;
  payload: Record<string, unknown>;
}

describe.each(testBackends())('agent lanes on $name', (backend) => {
  let target: TestTarget;
  let root: string;
  let counter = 0;

  beforeAll(async () => {
    target = await backend.newTarget();
    root = await mkdtemp(join(tmpdir(), 'overseer-lanes-'));
  });
  afterAll(async () => {
    await target.dispose();
    await rm(root, { recursive: true, force: true });
  });

  /** A fresh repository on branch main with one commit, and a plan in it (untracked, as people keep them). */
  async function repository(plan: string, files: Record<string, string> = {}): Promise<string> {
    counter += 1;
    const repo = join(root, `repo${String(counter)}`);
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    for (const [name, text] of Object.entries({ 'README.md': 'hello\n', ...files })) await writeFile(join(repo, name), text);
    execFileSync('git', ['-C', repo, 'add', '-A']);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'start']);
    await writeFile(join(repo, 'plan.yaml'), plan);
    return repo;
  }
  const cli = (repo: string, args: string[]) => overseer([...args, '--db', target.db], { cwd: repo, timeoutMs: 120_000 });
  const gitIn = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  async function events(repo: string, runId: string): Promise<LoggedEvent[]> {
    const out = await cli(repo, ['events', runId, '--json']);
    return out.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as LoggedEvent);
  }

  /** Runs a plan that must fail over a budget: its repository, run, log and `budget.exceeded` events. */
  async function failedOverBudget(plan: string): Promise<{ repo: string; runId: string; logged: LoggedEvent[]; over: LoggedEvent[] }> {
    const repo = await repository(plan);
    const run = await cli(repo, ['run', '--plan', 'plan.yaml', '--auto-approve', '--json']);
    expect(run.code).toBe(1);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const logged = await events(repo, runId);
    return { repo, runId, logged, over: logged.filter((e) => e.type === 'budget.exceeded') };
  }

  it('runs lanes in parallel and in dependency order: a dependent lane sees its dependencies merged', async () => {
    const plan = [
      'packets:',
      `  - { id: api, objective: add the api, agent: ${agent('claude-stream-json', '--steps 2 --tokens 100 --cost 0.25 --write api.txt=api')}, gates: ["test -f api.txt"] }`,
      `  - { id: docs, objective: write the docs, merge: squash, agent: ${agent('codex-json', '--steps 3 --tokens 50 --write docs.txt=docs')} }`,
      `  - { id: web, objective: use the api, dependsOn: [api, docs], agent: { command: "test -f api.txt && test -f docs.txt && node ${FAKE} text {prompt_file} --write web.txt=web --commit" } }`,
    ].join('\n');
    const repo = await repository(plan);
    const run = await cli(repo, ['run', '--plan', 'plan.yaml', '--auto-approve', '--json']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const { runId } = JSON.parse(run.stdout) as { runId: string };

    // Every lane's work is in main, main's checkout is clean, and the lanes' worktrees are gone.
    expect(readFileSync(join(repo, 'web.txt'), 'utf8')).toBe('web\n');
    expect(gitIn(repo, 'show', 'main:api.txt')).toBe('api');
    expect(gitIn(repo, 'show', 'main:docs.txt')).toBe('docs');
    expect(gitIn(repo, 'status', '--porcelain')).toBe('?? plan.yaml');
    expect(readdirSync(join(repo, '.overseer', 'worktrees', runId))).toEqual([]);
    const log = gitIn(repo, 'log', '--format=%s%n%b', 'main');
    expect(log).toContain('Merge lane api: add the api');
    expect(log).toContain('write the docs (squash of lane docs)');
    expect(log).toContain(`Overseer-Run: ${runId}\nOverseer-Packet: web`);
    // A squashed lane keeps its branch; a merged one is in main's history.
    expect(gitIn(repo, 'branch', '--list', `overseer/${runId}/*`).split('\n').map((b) => b.trim())).toEqual([`overseer/${runId}/docs`]);

    const logged = await events(repo, runId);
    const merged = logged.filter((e) => e.type === 'lane.merged').map((e) => e.workerId);
    expect(merged.at(-1)).toBe('web');
    const created = logged.find((e) => e.type === 'lane.worktree_created' && e.workerId === 'web');
    // web's lane was made from main after api and docs were merged into it.
    expect(gitIn(repo, 'merge-base', '--is-ancestor', String(created?.payload['base']), 'main')).toBe('');
    expect(logged.filter((e) => e.type === 'lane.merged' && e.workerId !== 'web').length).toBe(2);
    expect(logged.findIndex((e) => e === created)).toBeGreaterThan(Math.max(...logged.flatMap((e, i) => (e.type === 'lane.merged' && e.workerId !== 'web' ? [i] : []))));

    const status = await cli(repo, ['status', runId, '--json']);
    const summary = JSON.parse(status.stdout) as { usage: Record<string, number>; workers: Array<{ workerId: string; usage: Record<string, number>; lane: { branch: string; merge: { state: string } } }> };
    const api = summary.workers.find((w) => w.workerId === 'api');
    expect(api?.usage).toEqual({ tokens: 400, inputTokens: 200, outputTokens: 200, costUsd: 0.5 });
    expect(api?.lane).toMatchObject({ branch: `overseer/${runId}/api`, merge: { state: 'merged' } });
    expect(summary.workers.find((w) => w.workerId === 'docs')?.usage).toEqual({ tokens: 300, inputTokens: 150, outputTokens: 150, costUsd: 0 });
    expect(summary.usage).toEqual({ tokens: 700, inputTokens: 350, outputTokens: 350, costUsd: 0.5 });
  });

  it("runs a planner service's agent packets in lanes of the repository the run starts in", async () => {
    const repo = await repository('');
    const packets = [
      { id: 'notes', objective: 'write notes', agent: { command: `node ${FAKE} text {prompt_file} --write notes.txt=notes`, output: 'text' } },
      { id: 'check', objective: 'check the notes', dependsOn: ['notes'], command: 'test -f notes.txt' },
    ];
    const planner = [
      "import { createInterface } from 'node:readline';",
      'for await (const line of createInterface({ input: process.stdin })) {',
      '  const { id } = JSON.parse(line);',
      `  process.stdout.write(JSON.stringify({ id, result: ${JSON.stringify(packets)} }) + '\\n');`,
      '}',
    ].join('\n');
    await writeFile(join(repo, 'planner.mjs'), planner);
    const run = await cli(repo, ['run', 'take notes', '--planner', 'node planner.mjs', '--auto-approve', '--json']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    expect(gitIn(repo, 'show', 'main:notes.txt')).toBe('notes');
    expect((await events(repo, runId)).filter((e) => e.type === 'lane.merged').map((e) => e.workerId)).toEqual(['notes']);
  });

  it('stops a lane that passes its budget mid-way, and fails it with budget_exceeded', async () => {
    const plan = [
      'packets:',
      `  - { id: spender, objective: spend, budget: { tokens: 900 }, agent: ${agent('claude-stream-json', '--steps 60 --tokens 100 --step-ms 100')} }`,
    ].join('\n');
    const repo = await repository(plan);
    const run = await cli(repo, ['run', '--plan', 'plan.yaml', '--auto-approve', '--json']);
    expect(run.code).toBe(1);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const logged = await events(repo, runId);
    const over = logged.find((e) => e.type === 'budget.exceeded');
    expect(over?.payload).toMatchObject({ scope: 'lane', measure: 'tokens', limit: 900 });
    expect(Number(over?.payload['used'])).toBeGreaterThan(900);
    expect(logged.find((e) => e.type === 'task.finished')?.payload).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^budget_exceeded: lane budget of tokens passed/) as unknown });
    // The agent was stopped: it never finished its steps nor printed its result.
    expect(logged.some((e) => e.type === 'agent.result')).toBe(false);
    const worktree = join(repo, '.overseer', 'worktrees', runId, 'spender');
    expect(existsSync(join(worktree, 'step-60.txt'))).toBe(false);
    // Nothing of the lane reached main.
    expect(gitIn(repo, 'log', '--format=%s', 'main')).toBe('start');
  });

  it("stops a lane at its own time budget while the run's other lane goes on", async () => {
    const plan = [
      'packets:',
      `  - { id: slow, objective: take long, budget: { time: 2s }, agent: ${agent('text', '--steps 600 --step-ms 100')} }`,
      `  - { id: quick, objective: be quick, agent: ${agent('text', '--steps 1 --write quick.txt=quick')} }`,
    ].join('\n');
    const { repo, runId, over } = await failedOverBudget(plan);
    expect(over.map((e) => [e.workerId, e.payload['scope'], e.payload['measure'], e.payload['limit']])).toEqual([['slow', 'lane', 'time', 2000]]);
    expect(Number(over[0]?.payload['used'])).toBeGreaterThanOrEqual(2000);
    // Stopped while it worked: it never reached its last step.
    expect(existsSync(join(repo, '.overseer', 'worktrees', runId, 'slow', 'step-600.txt'))).toBe(false);
    expect(gitIn(repo, 'show', 'main:quick.txt')).toBe('quick');
  });

  it('a run over its time budget stops its lane and starts no more lanes', async () => {
    const plan = [
      'budget: { time: 5s }',
      'concurrency: 1',
      'packets:',
      `  - { id: first, objective: take long, agent: ${agent('text', '--steps 600 --step-ms 100')} }`,
      `  - { id: second, objective: never start, agent: ${agent('text', '--steps 1')} }`,
    ].join('\n');
    const { repo, runId, logged, over } = await failedOverBudget(plan);
    // first is stopped while it works (or, on a machine slow to start, before it starts); second never starts.
    expect(over.map((e) => [e.workerId, e.payload['scope'], e.payload['measure']])).toEqual([
      ['first', 'run', 'time'],
      ['second', 'run', 'time'],
    ]);
    expect(logged.filter((e) => e.type === 'process.started').map((e) => e.workerId)).not.toContain('second');
    expect(existsSync(join(repo, '.overseer', 'worktrees', runId, 'first', 'step-600.txt'))).toBe(false);
  });

  it('stops at a merge conflict for a person, who resolves it in the worktree and retries', async () => {
    const release = join(root, 'release-conflict');
    const plan = [
      'packets:',
      `  - { id: clash, objective: change the notes, agent: ${agent('text', `--wait-for ${release} --write notes.txt=lane`)} }`,
    ].join('\n');
    const repo = await repository(plan, { 'notes.txt': 'start\n' });
    const engine = overseerProcess(['run', '--plan', 'plan.yaml', '--auto-approve', '--detach', '--json', '--db', target.db], { cwd: repo });
    const runId = await eventually(() => /run (\w+) started/.exec(engine.output().stderr)?.[1], 60_000, 'the run to start');
    await eventually(async () => ((await events(repo, runId)).some((e) => e.type === 'process.started') ? true : undefined), 60_000, 'the agent to start');
    // main moves on under the lane, in the same lines.
    await writeFile(join(repo, 'notes.txt'), 'main\n');
    gitIn(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-am', 'main changes the notes');
    await writeFile(release, '');
    const waited = await engine.done;
    expect(waited.code).toBe(3);
    const conflicted = (await events(repo, runId)).find((e) => e.type === 'lane.conflicted');
    expect(conflicted?.payload).toMatchObject({ target: 'main', files: ['notes.txt'] });
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'waiting' });
    expect(gitIn(repo, 'status', '--porcelain')).toBe('?? plan.yaml');

    // A person resolves the rebase in the lane's worktree, then retries the lane.
    const worktree = join(repo, '.overseer', 'worktrees', runId, 'clash');
    await writeFile(join(worktree, 'notes.txt'), 'both\n');
    gitIn(worktree, 'add', 'notes.txt');
    execFileSync('git', ['-C', worktree, '-c', 'user.name=t', '-c', 'user.email=t@t', 'rebase', '--continue'], { env: { ...process.env, GIT_EDITOR: 'true' } });
    expect((await cli(repo, ['approve', runId, 'clash'])).code).toBe(0);
    const resumed = await cli(repo, ['resume', runId, '--json']);
    expect(resumed.code).toBe(0);
    expect(readFileSync(join(repo, 'notes.txt'), 'utf8')).toBe('both\n');
    const logged = await events(repo, runId);
    // The agent ran once: the retry merged the person's resolution.
    expect(logged.filter((e) => e.type === 'process.started').length).toBe(1);
    expect(logged.some((e) => e.type === 'lane.merged')).toBe(true);
  });

  it('after a SIGKILL of the engine mid-lane, resume reattaches to the same agent and reads on where it stopped', async () => {
    const release = join(root, 'release-crash');
    const starts = join(root, 'starts-crash');
    const plan = [
      'packets:',
      `  - { id: slow, objective: work slowly, agent: ${agent('codex-json', `--starts ${starts} --wait-for ${release} --steps 4 --tokens 10 --write slow.txt=done`)} }`,
    ].join('\n');
    const repo = await repository(plan);
    const engine = overseerProcess(['run', '--plan', 'plan.yaml', '--auto-approve', '--db', target.db], { cwd: repo });
    const runId = await eventually(() => /run (\w+) started/.exec(engine.output().stderr)?.[1], 60_000, 'the run to start');
    // The agent has started and its first output (the session) is read into the log.
    await eventually(async () => ((await events(repo, runId)).some((e) => e.type === 'agent.usage') ? true : undefined), 60_000, 'the agent to report');
    engine.kill('SIGKILL');
    await engine.done;
    await writeFile(release, '');

    const resumed = await cli(repo, ['resume', runId, '--json']);
    expect(resumed.code).toBe(0);
    expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(repo, 'slow.txt'), 'utf8')).toBe('done\n');
    const logged = await events(repo, runId);
    const started = logged.filter((e) => e.type === 'process.started');
    expect(started.length).toBe(1);
    // Where its pid means something: an engine taking over on another host records the lane lost.
    expect(started[0]?.payload).toMatchObject({ host: hostId() });
    // Read on from where it stopped: every turn counted once.
    const usage = logged.filter((e) => e.type === 'agent.usage').at(-1)?.payload;
    expect(usage).toMatchObject({ tokens: 80, turns: 4 });
    const status = JSON.parse((await cli(repo, ['status', runId, '--json'])).stdout) as { usage: Record<string, number> };
    expect(status.usage).toMatchObject({ tokens: 80 });
  });
});
