/**
 * Overseer as a library, through the package's own name (`import … from 'overseer'`, the built
 * exports): the runnable example starts a run, approves its gated worker from code and reads the
 * approval back; a plan with problems is refused with all of them and nothing written. On each backend.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBackends, useStore } from '../support/backends.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/api/approve-from-code.mjs', import.meta.url));
const FAKE_AGENT = fileURLToPath(new URL('../support/fake-agent.mjs', import.meta.url));

describe.each(testBackends())('the library on $name', (backend) => {
  const held = useStore(backend);
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'overseer-api-'));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('runs the example: a run approved from code completes, and the log says who approved it', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [EXAMPLE], { cwd, env: { ...process.env, OVERSEER_DB: held.target.db }, timeout: 120_000 });
    const printed = JSON.parse(stdout) as { runId: string; status: string; approvals: unknown[] };
    expect(printed.status).toBe('completed');
    expect(printed.approvals).toEqual([{ workerId: 'deploy', by: userInfo().username, source: 'api', reason: 'approved by the example' }]);
    const api = await import('overseer');
    expect(await api.runStatus(held.store, printed.runId)).toMatchObject({ status: 'completed', workers: [{ workerId: 'build', state: 'done' }, { workerId: 'deploy', state: 'done' }] });
  });

  it('refuses a plan with problems, naming each with its path, and writes nothing', async () => {
    const api = await import('overseer');
    const before = await api.listRuns(held.store);
    const refused = api.startRun(held.store, { plan: 'packets:\n  - id: a\n    command: "true"\n  - objective: b\n    comand: "true"\n', cwd });
    await expect(refused).rejects.toBeInstanceOf(api.RunRequestError);
    const error = (await refused.catch((e: unknown) => e)) as InstanceType<typeof api.RunRequestError>;
    expect(error.problems.map((p) => p.path)).toEqual(['packets[0].objective', 'packets[1].comand']);
    expect(await api.listRuns(held.store)).toHaveLength(before.length);
    await expect(api.approve(held.store, 'nosuchrun', 'a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('runs agent packets in lanes of the repository holding cwd, and refuses them outside one', async () => {
    const api = await import('overseer');
    const repo = join(cwd, 'repo');
    await mkdir(repo);
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    await writeFile(join(repo, 'README.md'), 'hello\n');
    execFileSync('git', ['-C', repo, 'add', '-A']);
    execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'start']);
    const plan = { packets: [{ id: 'notes', objective: 'write notes', agent: { command: `node ${FAKE_AGENT} text {prompt_file} --write notes.txt=notes`, output: 'text' } }] };

    const run = await api.startRun(held.store, { plan, cwd: repo, autoApprove: true });
    expect((await run.finished).status).toBe('completed');
    expect(execFileSync('git', ['-C', repo, 'show', 'main:notes.txt'], { encoding: 'utf8' }).trim()).toBe('notes');
    const merged = await api.readEvents(held.store, run.runId, { types: ['lane.merged'] });
    expect(merged.map((e) => e.workerId)).toEqual(['notes']);

    const before = await api.listRuns(held.store);
    const outside = await api.startRun(held.store, { plan, cwd, autoApprove: true }).catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(api.RunRequestError);
    expect((outside as Error).message).toMatch(/agent lanes need a git repository/);
    expect(await api.listRuns(held.store)).toHaveLength(before.length);
  });
});
